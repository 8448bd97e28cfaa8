import type { Timers } from '../xds/timers.js';

/** Timers driven by hand, with the clock they define: `advance(ms)` runs what is due, in order. */
export interface ManualTimers extends Timers {
  now: number;
  advance(ms: number): void;
  /** How many timers are waiting. */
  readonly pending: number;
  /** When the earliest waiting timer is due, if any: lets a test stop there and let what it starts settle. */
  readonly nextAt: number | undefined;
}

export function manualTimers(start = 0): ManualTimers {
  const pending = new Map<number, { at: number; fn: () => void }>();
  let id = 0;
  const t: ManualTimers = {
    now: start,
    setTimeout: (fn: () => void, ms: number) => {
      pending.set(++id, { at: t.now + ms, fn });
      return id;
    },
    clearTimeout: (h: unknown) => void pending.delete(h as number),
    advance: (ms: number) => {
      const end = t.now + ms;
      for (;;) {
        const due = [...pending].filter(([, p]) => p.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        pending.delete(due[0]);
        t.now = due[1].at;
        due[1].fn();
      }
      t.now = end;
    },
    get pending() {
      return pending.size;
    },
    get nextAt() {
      let min: number | undefined;
      for (const p of pending.values()) if (min === undefined || p.at < min) min = p.at;
      return min;
    },
  };
  return t;
}
