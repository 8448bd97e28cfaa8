import type { Logger } from '../../lib/log.js';
import { realTimers, type Timers } from '../../lib/xds/timers.js';
import { parsePromText } from './prom-text.js';
import { MetricWindow } from './window.js';

/**
 * Reads the mesh's own metrics off every node agent's and waypoint's admin
 * port (15020 `/metrics`) at a fixed interval, into a MetricWindow. The
 * controller knows where they are from their config streams; nothing is
 * pushed to it and no Prometheus server is needed.
 */

export interface ScrapeTarget {
  /** Stable id: the proxy of the config stream (`node/<name>`, `waypoint/<ns>/<name>/<pod>`). */
  id: string;
  /** `host:port` of its admin server. */
  address: string;
}

export interface TargetHealth {
  id: string;
  address: string;
  lastScrapeAt: string | null;
  lastError: string | null;
}

export interface ScraperOptions {
  targets: () => ScrapeTarget[];
  /** Which metric names to keep (the rest of a scrape is skipped unparsed). */
  keep: (name: string) => boolean;
  intervalMs: number;
  /** How far back rates may be asked for. */
  retainMs: number;
  timeoutMs?: number;
  log: Logger;
  fetch?: typeof fetch;
  now?: () => number;
  timers?: Timers;
}

export class Scraper {
  readonly window: MetricWindow;
  private readonly health = new Map<string, TargetHealth>();
  private timer: unknown;
  private stopped = false;
  private readonly o: Required<Omit<ScraperOptions, 'fetch'>> & { fetch: typeof fetch };

  constructor(opts: ScraperOptions) {
    this.o = { timeoutMs: 3000, fetch: globalThis.fetch, now: Date.now, timers: realTimers, ...opts };
    this.window = new MetricWindow(opts.retainMs);
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      void this.scrapeOnce().finally(() => {
        if (!this.stopped) this.timer = this.o.timers.setTimeout(tick, this.o.intervalMs);
      });
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.o.timers.clearTimeout(this.timer);
  }

  /** Scrapes every current target once, in parallel; a failing target is logged (on change) and keeps its older scrapes. */
  async scrapeOnce(): Promise<void> {
    const targets = this.o.targets();
    const ids = new Set(targets.map((t) => t.id));
    for (const id of this.window.targets()) if (!ids.has(id)) this.window.forget(id);
    for (const id of this.health.keys()) if (!ids.has(id)) this.health.delete(id);
    await Promise.all(targets.map((t) => this.scrapeTarget(t)));
  }

  private async scrapeTarget(t: ScrapeTarget): Promise<void> {
    const before = this.health.get(t.id);
    const h: TargetHealth = { id: t.id, address: t.address, lastScrapeAt: before?.lastScrapeAt ?? null, lastError: null };
    try {
      const res = await this.o.fetch(`http://${t.address}/metrics`, { signal: AbortSignal.timeout(this.o.timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const text = await res.text();
      const at = this.o.now();
      this.window.record(t.id, at, parsePromText(text, this.o.keep));
      h.lastScrapeAt = new Date(at).toISOString();
    } catch (err) {
      h.lastError = err instanceof Error ? err.message : String(err);
      if (before?.lastError !== h.lastError) {
        this.o.log.warn({ code: 'AMBIT_ERR_DASHBOARD_SCRAPE', target: t.id, address: t.address, err: h.lastError }, `the dashboard could not read ${t.id}'s metrics at http://${t.address}/metrics; its edges are missing from the graph until it answers`);
      }
    }
    if (before?.lastError && !h.lastError) this.o.log.info({ target: t.id }, 'dashboard scrape works again');
    this.health.set(t.id, h);
  }

  targetHealth(): TargetHealth[] {
    return [...this.health.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}
