import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import type { Registry } from 'prom-client';
import type { Logger } from '../../lib/log.js';
import { reclaimWhenQuiet } from '../../lib/reclaim.js';
import type { ResourceType } from '../../lib/xds/index.js';
import type { MeshState } from '../state/mesh-state.js';
import type { CertCache } from './certs.js';
import type { FromWorker, ToWorker } from './protocol.js';

export interface WorkerLoopOptions<T> {
  /** The worker's read-only replica, fed by the main thread's updates. */
  state: MeshState;
  certs: CertCache;
  /** Starts serving (listening) once the config is complete; called once. */
  serve(): Promise<T>;
  /** Stops accepting what `serve` started (undefined: it had not) and lets open connections finish for up to `ms`; resolves with how many had to be cut. */
  drain(served: T | undefined, ms: number): Promise<number>;
  /** The worker's metrics (the main thread sums them over the workers). */
  registry: Registry;
  /** What the worker reports for `/config_dump`, besides its index, heap and whether it listens. */
  stats(served: T | undefined): object;
  index: number;
  /** What `serve` is, for the log line when it fails (`data path`, `HBONE listener`). */
  what: string;
  log: Logger;
}

/** This thread's V8 heap, MiB (the process's RSS is the main thread's to report). */
function heapMiB() {
  const h = getHeapStatistics();
  return { used: Math.round(h.used_heap_size / 1048576), total: Math.round(h.total_heap_size / 1048576), external: Math.round(h.external_memory / 1048576) };
}

/** A message to the main thread (pool.ts). */
export const toMain = (m: FromWorker): void => parentPort!.postMessage(m);

/**
 * The worker side of the pool's protocol (protocol.ts), for the node agent's
 * data-path workers and a waypoint's alike: state updates, and serving once
 * they are complete (a worker never serves on a partial view), certificates,
 * queries for metrics and stats, memory given back after bursts, and the drain.
 */
export function runWorkerLoop<T>(o: WorkerLoopOptions<T>): void {
  const port = parentPort!;
  const stopReclaiming = reclaimWhenQuiet();
  let served: T | undefined;
  let starting: Promise<void> | undefined;
  const start = (): Promise<void> =>
    (starting ??= o.serve().then(
      (s) => {
        served = s;
        toMain({ kind: 'listening' });
      },
      (err: unknown) => {
        // Nothing to serve with: let the main thread see the worker die and restart it.
        o.log.fatal({ err: err instanceof Error ? err.message : String(err) }, `${o.what} failed to start`);
        process.exit(1);
      },
    ));
  const drain = async (ms: number): Promise<number> => {
    await starting;
    stopReclaiming();
    return o.drain(served, ms);
  };
  port.on('message', (m: ToWorker) => {
    switch (m.kind) {
      case 'update': {
        const r = o.state.apply(m.type as ResourceType, m.upserts as never, m.removals);
        if (!r.ok) o.log.error({ type: m.type, err: r.error }, 'bug: an update the main thread accepted was refused here');
        return;
      }
      case 'complete':
        o.state.markComplete();
        void start();
        return;
      case 'cert':
        o.certs.put(m.identity, m.material);
        return;
      case 'cert-refused':
        o.certs.refuse(m.identity, m.message);
        return;
      case 'query':
        if (m.what === 'metrics') void o.registry.getMetricsAsJSON().then((value) => toMain({ kind: 'answer', id: m.id, value }));
        else toMain({ kind: 'answer', id: m.id, value: { worker: o.index, listening: served !== undefined, heap: heapMiB(), ...o.stats(served) } });
        return;
      case 'drain':
        void drain(m.ms).then((open) => {
          toMain({ kind: 'drained', open });
          port.close();
        });
        return;
    }
  });
}
