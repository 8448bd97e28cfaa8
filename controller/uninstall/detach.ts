import type { V1DaemonSet } from '@kubernetes/client-node';
import { AmbitError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';

/**
 * Before `helm uninstall` deletes the node-agent DaemonSet, its agents must be
 * told to remove their kernel state when they stop. An agent keeps its pinned
 * eBPF programs and its nftables capture table on exit, so that the next agent
 * (a rolling update, a crash) re-adopts them without a gap; only with
 * AMBIT_DETACH_ON_EXIT=true does it unpin the programs (which detaches them
 * from the pod cgroup) and delete the table and its policy route. Left behind,
 * they would keep sending meshed pods' connections to a port nobody listens on.
 *
 * A Job cannot reach every node, but the DaemonSet can: the pre-delete hook
 * sets the variable on the DaemonSet and waits for the rollout (the usual
 * surge hand-over, with every node at once: the agents are going away), so
 * each node runs an agent that detaches when helm then deletes it.
 */

export const DETACH_ENV = 'AMBIT_DETACH_ON_EXIT';
export const AGENT_CONTAINER = 'node-agent';

/** The DaemonSet as the hook reads and writes it. */
export interface DaemonSetAccess {
  readonly describe: string;
  /** Undefined when there is none (nothing to prepare). */
  read(): Promise<V1DaemonSet | undefined>;
  /** A PUT carrying the read resourceVersion: a concurrent change makes it fail. */
  replace(ds: V1DaemonSet): Promise<V1DaemonSet>;
}

/**
 * The DaemonSet with its agents set to detach on exit and rolled onto every
 * node at once; undefined when it already says so.
 */
export function withDetachOnExit(ds: V1DaemonSet): V1DaemonSet | undefined {
  const containers = ds.spec?.template?.spec?.containers ?? [];
  const agent = containers.find((c) => c.name === AGENT_CONTAINER);
  if (!agent) throw new AmbitError('AMBIT_ERR_API', `the DaemonSet has no container named ${AGENT_CONTAINER}; is it Ambit's node agent?`);
  const env = agent.env ?? [];
  const surge = ds.spec?.updateStrategy?.rollingUpdate?.maxSurge;
  if (env.some((e) => e.name === DETACH_ENV && e.value === 'true') && surge === '100%') return undefined;
  const next: V1DaemonSet = structuredClone(ds);
  const nextAgent = next.spec!.template.spec!.containers.find((c) => c.name === AGENT_CONTAINER)!;
  nextAgent.env = [...env.filter((e) => e.name !== DETACH_ENV), { name: DETACH_ENV, value: 'true' }];
  next.spec!.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '100%', maxUnavailable: 0 } };
  return next;
}

/** Whether every scheduled agent runs the current template and is available. */
export function rolledOut(ds: V1DaemonSet): boolean {
  const s = ds.status;
  if (!s) return false;
  const generation = ds.metadata?.generation ?? 0;
  return (s.observedGeneration ?? 0) >= generation && (s.updatedNumberScheduled ?? 0) >= s.desiredNumberScheduled && (s.numberAvailable ?? 0) >= s.desiredNumberScheduled;
}

export interface PrepareOptions {
  daemonSet: DaemonSetAccess;
  timeoutMs: number;
  pollMs?: number;
  log: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Sets the agents to detach on exit and waits until every node runs such an agent. */
export async function prepareAgentsForUninstall(o: PrepareOptions): Promise<'absent' | 'rolled'> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + o.timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const ds = await o.daemonSet.read();
    if (!ds) {
      o.log.info({ daemonSet: o.daemonSet.describe }, 'no node-agent DaemonSet: nothing to prepare');
      return 'absent';
    }
    const next = withDetachOnExit(ds);
    if (!next) break;
    try {
      await o.daemonSet.replace(next);
      o.log.info({ daemonSet: o.daemonSet.describe }, `${DETACH_ENV}=true set: rolling the agents`);
      break;
    } catch (err) {
      // A 409 (someone changed it meanwhile) is retried on a fresh read.
      if (attempt >= 5 || now() > deadline) throw err;
    }
  }
  for (;;) {
    const ds = await o.daemonSet.read();
    if (!ds) return 'absent';
    if (rolledOut(ds)) {
      o.log.info({ daemonSet: o.daemonSet.describe, nodes: ds.status?.desiredNumberScheduled }, 'every node runs an agent that detaches on exit');
      return 'rolled';
    }
    if (now() > deadline) {
      const s = ds.status;
      throw new AmbitError(
        'AMBIT_ERR_API',
        `${o.daemonSet.describe}: ${s?.updatedNumberScheduled ?? 0} of ${s?.desiredNumberScheduled ?? '?'} agents rolled, ${s?.numberAvailable ?? 0} available, within ${Math.round(o.timeoutMs / 1000)}s; check 'kubectl -n <namespace> get pods -l app.kubernetes.io/name=ambit-node-agent', then retry, or uninstall with --no-hooks and clean the nodes by hand (docs/install.md)`,
      );
    }
    await sleep(o.pollMs ?? 2000);
  }
}
