import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * Giving memory back after a burst. A worker's young generation grows to what
 * the traffic needed (config.ts says why it may grow large), and V8 shrinks
 * it only in a collection that sees a low but non-zero allocation rate: an
 * idle worker runs no collection at all, so after a burst of connections its
 * heap would stay at the peak for as long as the node stays quiet. A worker
 * that was busy and then quiet collects once per interval (a full collection
 * of an idle heap costs one or two milliseconds) until V8 has shrunk the young
 * generation, measured: the third to fifth collection does it. The main
 * thread then returns the freed C heap (socket and TLS buffers) to the kernel
 * with malloc_trim.
 */

/** Must run before the workers start: their isolates see `gc` only if the flag is set when they are created. */
export function exposeGcToWorkers(): void {
  setFlagsFromString('--expose-gc');
}

const INTERVAL_MS = 2000;
/** Below this share of an interval spent running, the worker counts as quiet. */
const QUIET = 0.01;
/** V8's young generation starts at 1 MiB per semi-space: at or below this, it has been shrunk. */
const SHRUNK_BYTES = 4 << 20;
/** Collections per quiet spell at most (a minute's worth): a heap that will not shrink is left alone. */
const MAX_COLLECTIONS = 30;

const youngGenerationBytes = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

/** In a worker: calls `reclaimed` once the heap has been shrunk after a burst. Returns a stop function. */
export function reclaimWhenQuiet(reclaimed: () => void): () => void {
  const gc = (globalThis as { gc?: (o: { type: 'major'; execution: 'sync' }) => void }).gc;
  if (!gc) return () => {};
  let last = performance.eventLoopUtilization();
  let collections = -1; // -1: nothing to give back since the last quiet spell
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization >= QUIET;
    last = now;
    if (busy) collections = 0;
    else if (collections >= 0) {
      gc({ type: 'major', execution: 'sync' });
      if (youngGenerationBytes() <= SHRUNK_BYTES || ++collections >= MAX_COLLECTIONS) {
        collections = -1;
        reclaimed();
      }
    }
  }, INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
