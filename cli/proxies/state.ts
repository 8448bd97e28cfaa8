import { AmbitError } from '../../lib/errors.js';
import { RESOURCE_TYPES, asPushed } from '../../lib/xds/index.js';
import { FILE_KEYS } from '../../node-agent/state/file-source.js';
import { MeshState } from '../../node-agent/state/mesh-state.js';
import type { ModelDump } from './dumps.js';

/**
 * A proxy's state rebuilt from its config dump: each type put through the
 * wire encoding (asPushed, as the local config file is) and applied by the
 * state's one updater, so the rebuilt MeshState answers every query
 * (policiesFor, mtlsFor, waypointPolicies, ...) as the proxy's own does.
 */
export function stateFromDump(model: ModelDump, who: string): MeshState {
  const state = new MeshState();
  for (const type of RESOURCE_TYPES) {
    const list = model[FILE_KEYS[type]] ?? [];
    const r = state.apply(type, asPushed(type, list) as never, []);
    if (!r.ok) throw new AmbitError('AMBIT_ERR_CONFIG', `the ${type} config of ${who} does not load: ${r.error} (a CLI older than the proxy? use the same version)`);
  }
  // The proxy decides nothing before its config is complete; say what it would do if it were.
  state.markComplete();
  return state;
}
