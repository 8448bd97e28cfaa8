import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import type { Registry } from 'prom-client';
import type { Logger } from '../../lib/log.js';
import type { ResourceType } from '../../lib/xds/index.js';
import type { MeshState } from '../state/mesh-state.js';
import type { CertCache } from './certs.js';
import type { FromWorker, ToWorker } from './protocol.js';

export interface WorkerLoopOptions {
  /** The worker's read-only replica, fed by the main thread's updates. */
  state: MeshState;
  certs: CertCache;
  /** Starts serving once the config is complete (called once). */
  start(): void;
  /** Stops accepting and lets open connections finish for up to `ms`; resolves with how many had to be cut. */
  drain(ms: number): Promise<number>;
  /** The worker's metrics (the main thread sums them over the workers). */
  registry: Registry;
  /** What the worker reports for `/config_dump`, besides its index and heap. */
  stats(): object;
  index: number;
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
 * data-path workers and a waypoint's alike: state updates and completion,
 * certificates, queries for metrics and stats, and the drain.
 */
export function runWorkerLoop(o: WorkerLoopOptions): void {
  const port = parentPort!;
  port.on('message', (m: ToWorker) => {
    switch (m.kind) {
      case 'update': {
        const r = o.state.apply(m.type as ResourceType, m.upserts as never, m.removals);
        if (!r.ok) o.log.error({ type: m.type, err: r.error }, 'bug: an update the main thread accepted was refused here');
        return;
      }
      case 'complete':
        o.state.markComplete();
        o.start();
        return;
      case 'cert':
        o.certs.put(m.identity, m.material);
        return;
      case 'cert-refused':
        o.certs.refuse(m.identity, m.message);
        return;
      case 'query':
        if (m.what === 'metrics') void o.registry.getMetricsAsJSON().then((value) => toMain({ kind: 'answer', id: m.id, value }));
        else toMain({ kind: 'answer', id: m.id, value: { worker: o.index, heap: heapMiB(), ...o.stats() } });
        return;
      case 'drain':
        void o.drain(m.ms).then((open) => {
          toMain({ kind: 'drained', open });
          port.close();
        });
        return;
    }
  });
}
