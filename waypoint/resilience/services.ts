import type { IncomingHttpHeaders } from 'node:http';
import type { Service, TrafficPolicy } from '../../lib/xds/index.js';
import type { Target } from '../../node-agent/proxy/resolve.js';
import { createPicker, type EndpointPicker } from './balancer.js';
import { decideFault, type FaultDecision } from './fault.js';
import { outlierDetector, type Ejection, type OutlierDetector } from './outlier.js';
import { PoolLimiter, type Admission, type PoolStats } from './pool.js';
import { retryPolicy, RetryBudget, type RetryPolicy } from './retry.js';
import { TokenBucket } from '../../lib/token-bucket.js';
import type { Release, TryOutcome } from './types.js';

/*
 * The resilience building blocks of the waypoint's request path (this folder): pure,
 * deterministic (clock and random are injected), cheap per request, and without timers. Each
 * module's header says which Envoy/Istio behaviour it mirrors and where it deliberately
 * differs. Per Service, this module holds one of each stateful block (TokenBucket,
 * OutlierDetector, EndpointPicker, RetryBudget, PoolLimiter) per worker thread.
 */

/** The ready endpoints of a Service port (the resolver's, compiled once per config). */
export type EndpointSource = (service: Service, port: number) => readonly Target[];

/** One Service's resilience state in this worker, rebuilt piece by piece when its TrafficPolicy changes. */
interface ServiceState {
  /** The Service object the config below was read from: a push replaces it, and only then is the config compared. */
  seen: Service;
  /** Each piece's config, as JSON, to tell a real change from a re-push. */
  keys: { lb: string; outlier: string; limit: string };
  picker: EndpointPicker;
  outlier: OutlierDetector | undefined;
  bucket: TokenBucket | undefined;
  pool: PoolLimiter;
  budget: RetryBudget;
  retries: RetryPolicy;
}

const keyOf = (v: unknown) => JSON.stringify(v ?? null);

/** The bucket for a Service's LocalRateLimit, or undefined when it sets none. */
export function rateLimiter(config: TrafficPolicy['localRateLimit'] | null | undefined): TokenBucket | undefined {
  return config && config.maxTokens > 0 ? new TokenBucket(config) : undefined;
}

/**
 * The TrafficPolicy of each Service, made live at the waypoint: the local
 * rate limit and faults of the Service a request addressed, and for the
 * Service it is sent to (a route's backend, or the same one) the load
 * balancer, outlier detection, connection-pool limits and retry budget.
 * State lives per worker thread (the building blocks in this folder say so);
 * a config change keeps what did not change (an ejection survives a new
 * retry setting) and forgets endpoints that left the Service.
 */
export class Resilience {
  private readonly services = new Map<string, ServiceState>();
  /**
   * Each endpoint list's keys, made once per list: the resolver hands out the same array until
   * the config changes, and the outlier detector and the ring hash reuse their work only while
   * their input is the same array.
   */
  private readonly keyed = new WeakMap<readonly Target[], { byKey: ReadonlyMap<string, Target>; keys: readonly string[] }>();

  /** The config generation at which state of Services that left the config was last dropped. */
  private prunedAt = -1;

  constructor(
    private readonly endpoints: EndpointSource,
    /** The config the Services come from: state of a Service it no longer has is dropped. */
    private readonly config: { readonly generation: number; service(namespace: string, name: string): Service | undefined },
  ) {}

  private state(service: Service): ServiceState {
    if (this.config.generation !== this.prunedAt) this.prune();
    const name = `${service.namespace}/${service.name}`;
    const had = this.services.get(name);
    if (had && had.seen === service) return had;
    const p: TrafficPolicy | null = service.trafficPolicy;
    const keys = { lb: `${service.lbPolicy}`, outlier: keyOf(p?.outlierDetection), limit: keyOf(p?.localRateLimit) };
    const endpointKeys = service.endpoints.flatMap((e) => e.ports.map((m) => `${e.address}:${m.targetPort}`));
    const s: ServiceState = {
      seen: service,
      keys,
      picker: had && had.keys.lb === keys.lb ? had.picker : createPicker(service.lbPolicy),
      outlier: had && had.keys.outlier === keys.outlier ? had.outlier : outlierDetector(p?.outlierDetection, endpointKeys),
      bucket: had && had.keys.limit === keys.limit ? had.bucket : rateLimiter(p?.localRateLimit),
      pool: had?.pool ?? new PoolLimiter(),
      budget: had?.budget ?? new RetryBudget(),
      retries: retryPolicy(p?.retries),
    };
    s.pool.configure(p?.connectionPool);
    s.outlier?.setEndpoints(endpointKeys);
    this.services.set(name, s);
    return s;
  }

  /** Once per config generation: a deleted Service's buckets, ejections and budgets go with it (one created again starts afresh). */
  private prune(): void {
    this.prunedAt = this.config.generation;
    for (const [name, s] of this.services) if (!this.config.service(s.seen.namespace, s.seen.name)) this.services.delete(name);
  }

  /** The local rate limit of the addressed Service: false means 429. */
  admit(service: Service): boolean {
    return this.state(service).bucket?.take() ?? true;
  }

  fault(service: Service): FaultDecision {
    return decideFault(service.trafficPolicy?.fault);
  }

  /** The addressed Service's retries (Istio's default when its policy says nothing). */
  retries(service: Service | undefined): RetryPolicy {
    return service ? this.state(service).retries : retryPolicy(null);
  }

  /** A retry slot of the Service's budget, or undefined when spent. */
  retrySlot(service: Service): Release | undefined {
    const s = this.state(service);
    const { active, pending } = s.pool.stats();
    return s.budget.tryAcquire(active + pending);
  }

  /**
   * An endpoint of the Service port for one try: not ejected, by its load
   * balancer, preferring endpoints this request has not tried yet.
   */
  pick(service: Service, port: number, headers: IncomingHttpHeaders | Record<string, unknown>, tried: ReadonlySet<string>): Target | { error: string } {
    const all = this.endpoints(service, port);
    if (all.length === 0) return { error: `no ready endpoint of ${service.namespace}/${service.name} for port ${port}` };
    const s = this.state(service);
    let keyed = this.keyed.get(all);
    if (!keyed) {
      const byKey = new Map(all.map((t) => [`${t.ip}:${t.port}`, t]));
      this.keyed.set(all, (keyed = { byKey, keys: [...byKey.keys()] }));
    }
    const { byKey } = keyed;
    const keys = s.outlier ? s.outlier.available(keyed.keys) : keyed.keys;
    // A retry prefers endpoints not tried yet; a first try takes the list as it is.
    const fresh = tried.size === 0 ? keys : keys.filter((k) => !tried.has(k));
    const hashHeader = service.lbHashHeader ? headers[service.lbHashHeader.toLowerCase()] : undefined;
    const hashKey = hashHeader === undefined ? undefined : Array.isArray(hashHeader) ? hashHeader.join(',') : String(hashHeader);
    const key = s.picker.pick(fresh.length > 0 ? fresh : keys, hashKey);
    return key === undefined ? { error: `every endpoint of ${service.namespace}/${service.name} is ejected` } : byKey.get(key)!;
  }

  /** A connection-pool slot for a request to the Service. */
  acquire(service: Service): Admission {
    return this.state(service).pool.acquire();
  }

  /** A try went out to `endpoint`, and how it ended: load balancing and outlier detection learn from it. */
  started(service: Service, endpoint: Target): (outcome: TryOutcome) => void {
    const s = this.state(service);
    const key = `${endpoint.ip}:${endpoint.port}`;
    s.picker.start(key);
    let open = true;
    return (outcome) => {
      if (!open) return;
      open = false;
      s.picker.finish(key);
      s.outlier?.report(key, outcome);
    };
  }

  /** For the config dump: ejections and pool counters per Service. */
  stats(): Record<string, { ejected: Ejection[]; pool: PoolStats }> {
    return Object.fromEntries([...this.services].map(([name, s]) => [name, { ejected: s.outlier?.ejected() ?? [], pool: s.pool.stats() }]));
  }
}
