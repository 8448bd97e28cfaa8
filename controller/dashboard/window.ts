import type { Sample } from './prom-text.js';

/**
 * The recent scrapes of every target, and per-second rates over a window
 * read from them: what Prometheus's `rate()` gives, computed in the
 * controller so the dashboard needs no Prometheus server.
 */

export interface SeriesRate {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** Increase per second over the window. */
  rate: number;
}

interface Scrape {
  at: number;
  /** Series key -> value. */
  values: Map<string, number>;
}

interface Series {
  name: string;
  labels: Record<string, string>;
}

/** One series' identity: its name and sorted labels. */
export function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  return `${name}${JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]))}`;
}

export class MetricWindow {
  private readonly scrapes = new Map<string, Scrape[]>();
  private readonly series = new Map<string, Series>();

  /** @param retainMs scrapes older than this are dropped: the longest window the dashboard offers, plus one interval. */
  constructor(private readonly retainMs: number) {}

  record(target: string, at: number, samples: readonly Sample[]): void {
    const values = new Map<string, number>();
    for (const s of samples) {
      const key = seriesKey(s.name, s.labels);
      if (!this.series.has(key)) this.series.set(key, { name: s.name, labels: s.labels });
      values.set(key, (values.get(key) ?? 0) + s.value);
    }
    const list = this.scrapes.get(target) ?? [];
    list.push({ at, values });
    // Keep one scrape older than the retention: it is the baseline of the longest window.
    while (list.length > 2 && list[1]!.at < at - this.retainMs) list.shift();
    this.scrapes.set(target, list);
  }

  /** A target that went away (its agent or waypoint is gone): its series stop counting. */
  forget(target: string): void {
    this.scrapes.delete(target);
  }

  targets(): string[] {
    return [...this.scrapes.keys()];
  }

  /**
   * The per-second rate of every counter series over the last `windowMs`,
   * per target (targets are scraped at different moments, so each gets its
   * own time span) and then summed across targets per series. The baseline
   * is the last scrape at or before the window's start, else the oldest one
   * kept. Counter resets (a restarted proxy) count from zero, as Prometheus
   * does. A series absent from the baseline but present later counts from
   * zero too: prom-client creates a labelled series on its first increment,
   * so its first value happened inside the window; this is what lets a
   * canary backend's first requests show at once. A target with a single
   * scrape has no rate yet.
   */
  rates(windowMs: number, now: number): SeriesRate[] {
    const sums = new Map<string, number>();
    for (const list of this.scrapes.values()) {
      const start = now - windowMs;
      let first = 0;
      for (let i = 0; i < list.length; i++) if (list[i]!.at <= start) first = i;
      const used = list.slice(first);
      if (used.length < 2) continue;
      const seconds = (used[used.length - 1]!.at - used[0]!.at) / 1000;
      if (seconds <= 0) continue;
      const increase = new Map<string, number>();
      for (let i = 1; i < used.length; i++) {
        const prev = used[i - 1]!.values;
        for (const [key, v] of used[i]!.values) {
          const before = prev.get(key);
          const delta = before === undefined || v < before ? v : v - before;
          increase.set(key, (increase.get(key) ?? 0) + delta);
        }
      }
      for (const [key, inc] of increase) sums.set(key, (sums.get(key) ?? 0) + inc / seconds);
    }
    const out: SeriesRate[] = [];
    for (const [key, rate] of sums) {
      const s = this.series.get(key);
      if (s) out.push({ name: s.name, labels: s.labels, rate });
    }
    // Series of forgotten targets are kept only while a target still has them.
    if (this.series.size > 4 * Math.max(out.length, 1000)) this.pruneSeries();
    return out;
  }

  private pruneSeries(): void {
    const live = new Set<string>();
    for (const list of this.scrapes.values()) for (const s of list) for (const k of s.values.keys()) live.add(k);
    for (const k of this.series.keys()) if (!live.has(k)) this.series.delete(k);
  }
}

/**
 * The `q` quantile of a histogram given its cumulative buckets (upper bound
 * `le` -> count, `+Inf` included), with Prometheus's `histogram_quantile`
 * rules: linear interpolation inside the bucket the rank falls in, the lowest
 * bucket starting at 0, and a rank in the `+Inf` bucket answered with the
 * highest finite bound. Undefined without observations.
 */
export function histogramQuantile(q: number, buckets: ReadonlyMap<number, number>): number | undefined {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  if (sorted.length === 0) return undefined;
  const total = sorted[sorted.length - 1]![0] === Infinity ? sorted[sorted.length - 1]![1] : undefined;
  if (total === undefined || !(total > 0)) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      if (count === prevCount) return le;
      return prevLe + (le - prevLe) * ((rank - prevCount) / (count - prevCount));
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}
