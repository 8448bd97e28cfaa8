import { AmbitError } from '../lib/errors.js';

/**
 * AMBIT_LAB_GARBAGE_COLLECTOR=off: the lab's API server collects no garbage, as in a cluster
 * whose kube-controller-manager is down: what only owner references would delete stays, and
 * the controller's own clean-up of a gone Waypoint's objects is all there is. Default on.
 * Read by `lab up` (which refuses a bad value before building anything) and the supervisor.
 */
export function garbageCollectorOn(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.AMBIT_LAB_GARBAGE_COLLECTOR || 'on';
  if (v !== 'on' && v !== 'off') throw new AmbitError('AMBIT_ERR_CONFIG', `AMBIT_LAB_GARBAGE_COLLECTOR must be on or off, got ${JSON.stringify(v)}`);
  return v === 'on';
}
