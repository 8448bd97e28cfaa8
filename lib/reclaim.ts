import koffi from 'koffi';
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Giving memory back after a burst, in the thread that calls it. V8 grows a
 * thread's young generation to what a burst needed (a data-path worker's may
 * reach 64 MiB semi-spaces, node-agent/config.ts says why) and shrinks it
 * only in a collection that sees a low but non-zero allocation rate; an idle
 * thread runs no collection at all. So after a burst of connections, or of
 * garbage on a port, a process would hold its peak for as long as it stays
 * quiet (measured: an agent at 289 MiB 30 s after a fuzz run, 119 idle).
 *
 * A thread that was busy and then quiet for a whole interval collects once
 * per interval (a full collection of an idle heap costs one or two
 * milliseconds) until V8 has shrunk the young generation (the third to fifth
 * collection does it), then returns the C heap's free pages (socket and TLS
 * buffers) to the kernel with malloc_trim. A thread that stays quiet still
 * collects every 10 s (an idle heap costs a millisecond or two).
 */

const INTERVAL_MS = 2000;
/** Below this share of an interval spent running, the thread counts as quiet. */
const QUIET = 0.01;
/** V8's young generation starts at 1 MiB per semi-space: at or below this, it has been shrunk. */
const SHRUNK_BYTES = 4 << 20;
/** Collections per quiet spell at most (a minute's worth): a heap that will not shrink is left alone. */
const MAX_COLLECTIONS = 30;
/** In a long quiet spell, one collection every this many intervals (10 s)... */
const SLOW_EVERY = 5;
/** ...and a trim of the C heap if it freed this much. */
const TRIM_AFTER_BYTES = 4 << 20;

const youngGenerationBytes = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

let mallocTrim: ((pad: number) => number) | undefined;

/** glibc's malloc_trim; on a C library without it (musl), collecting alone has to do. */
function glibcMallocTrim(): (pad: number) => number {
  try {
    return koffi.load('libc.so.6').func('int malloc_trim(size_t pad)') as (pad: number) => number;
  } catch {
    return () => 0;
  }
}

/** Starts reclaiming in this thread; `reclaimed` (for tests) is called after each spell. Returns a stop function. */
export function reclaimWhenQuiet(reclaimed: (youngBytes: number) => void = () => {}): () => void {
  // The collector V8 exposes with --expose-gc, reached through a new context:
  // the flag cannot be passed to a worker thread, and comes too late for a
  // context that already exists.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (o: { type: 'major'; execution: 'sync' }) => void;
  mallocTrim ??= glibcMallocTrim();
  let last = performance.eventLoopUtilization();
  let collections = -1; // -1: nothing to give back since the last quiet spell
  let quietIntervals = 0;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization >= QUIET;
    last = now;
    if (busy) {
      collections = 0;
      quietIntervals = 0;
    } else if (collections >= 0) {
      gc({ type: 'major', execution: 'sync' });
      if (youngGenerationBytes() <= SHRUNK_BYTES || ++collections >= MAX_COLLECTIONS) {
        collections = -1;
        mallocTrim!(0);
        reclaimed(youngGenerationBytes());
      }
    } else if (++quietIntervals % SLOW_EVERY === 0) {
      // Work too light to count as busy can still turn much of the heap into garbage
      // (idle HBONE sessions closing one by one after a burst): collect now and then.
      const before = getHeapStatistics().used_heap_size;
      gc({ type: 'major', execution: 'sync' });
      if (before - getHeapStatistics().used_heap_size > TRIM_AFTER_BYTES) mallocTrim!(0);
    }
  }, INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
