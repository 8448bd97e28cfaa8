/**
 * A Service's connection pool limits, as one waypoint thread applies them:
 * Envoy's cluster circuit breakers as Istio's connectionPool sets them.
 *
 * At most `maxConnections` requests are in flight to the Service's endpoints.
 * That is Envoy's max_connections for HTTP/1.1 (the waypoint's upstream
 * HTTP/1.1 connections carry one request at a time, so requests in flight =
 * connections busy) and its max_requests for HTTP/2 (Istio's
 * http2MaxRequests), where requests share few connections: the limit is on
 * the load sent to the Service either way. Up to `maxPendingRequests` more
 * wait, first come first served, for a slot; beyond that a request overflows
 * and the caller answers 503 with response flag UO, as Envoy does.
 *
 * 0 means unlimited for both: maxConnections as the proto says;
 * maxPendingRequests as Istio's default (2^32-1; Envoy's own is 1024).
 * maxRequestsPerConnection and connectTimeoutMs belong to the upstream
 * connection code, not here.
 *
 * A waiting request whose client went away is abandoned without taking or
 * leaking a slot. Waiting has no timeout of its own: the request timeout
 * (or the client leaving) ends it through abandon(). Limits are per thread;
 * Envoy's are shared by its workers.
 */
import type { ConnectionPool } from '../../lib/xds/index.js';
import type { Release } from './types.js';

/** The outcome of acquire(). */
export type Admission =
  | { readonly kind: 'ready'; readonly release: Release }
  | {
      readonly kind: 'queued';
      /** Resolves with the slot once one frees, or with undefined if abandoned first. */
      readonly ready: Promise<Release | undefined>;
      /** The request no longer wants the slot: leaves the queue, or gives back the slot if it was already granted. */
      abandon(): void;
    }
  | { readonly kind: 'overflow' };

export interface PoolStats {
  /** Requests holding a slot (Envoy's upstream_rq_active). */
  active: number;
  /** Requests waiting (upstream_rq_pending_active). */
  pending: number;
  /** Requests refused because the queue was full (upstream_rq_pending_overflow). */
  overflowed: number;
  /** Waiting requests that gave up before getting a slot. */
  abandoned: number;
}

const OVERFLOW: Admission = Object.freeze({ kind: 'overflow' });

interface Waiter {
  resolve(release: Release | undefined): void;
  /** Set once the waiter got a slot. */
  granted: Release | undefined;
}

export class PoolLimiter {
  private maxActive = Infinity;
  private maxPending = Infinity;
  private active = 0;
  /** Waiting requests in arrival order (a Set: FIFO with O(1) removal on abandon). */
  private readonly queue = new Set<Waiter>();
  private overflowed = 0;
  private abandoned = 0;

  constructor(config?: ConnectionPool | null) {
    this.configure(config);
  }

  /** New limits; waiting requests are admitted at once if the limit went up. Requests in flight keep their slots. */
  configure(config: ConnectionPool | null | undefined): void {
    this.maxActive = config?.maxConnections || Infinity;
    this.maxPending = config?.maxPendingRequests || Infinity;
    this.admitWaiting();
  }

  acquire(): Admission {
    if (this.active < this.maxActive && this.queue.size === 0) {
      this.active++;
      return { kind: 'ready', release: this.slot() };
    }
    if (this.queue.size >= this.maxPending) {
      this.overflowed++;
      return OVERFLOW;
    }
    let resolve!: (release: Release | undefined) => void;
    const ready = new Promise<Release | undefined>((r) => (resolve = r));
    const waiter: Waiter = { resolve, granted: undefined };
    this.queue.add(waiter);
    return {
      kind: 'queued',
      ready,
      abandon: () => {
        if (waiter.granted) return waiter.granted();
        if (!this.queue.delete(waiter)) return;
        this.abandoned++;
        resolve(undefined);
      },
    };
  }

  stats(): PoolStats {
    return { active: this.active, pending: this.queue.size, overflowed: this.overflowed, abandoned: this.abandoned };
  }

  /** A once-only release of one slot, which hands it to the next waiter. */
  private slot(): Release {
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.active--;
      this.admitWaiting();
    };
  }

  private admitWaiting(): void {
    for (const waiter of this.queue) {
      if (this.active >= this.maxActive) return;
      this.queue.delete(waiter);
      this.active++;
      waiter.granted = this.slot();
      waiter.resolve(waiter.granted);
    }
  }
}
