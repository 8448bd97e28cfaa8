import type { Service, Workload } from '../../lib/xds/index.js';
import type { MeshState } from '../state/mesh-state.js';
import { sharedBalancerState, type BalancerState } from './balancer-state.js';

/** Where a captured connection goes, once the original destination is resolved. */
export interface Target {
  ip: string;
  port: number;
  /** The destination pod, when it is one the mesh knows. */
  workload: Workload | undefined;
  /** The Service the client addressed, if it used a ClusterIP. */
  service: Service | undefined;
}

/**
 * Resolves an original destination: a ClusterIP picks a ready endpoint of
 * the Service by the `lbPolicy` pushed with it, read on every resolution
 * (LEAST_REQUEST: the fewest connections open through this agent, all of its
 * workers, equals in turn; anything else is round robin, CONSISTENT_HASH
 * included: hashing a header needs a waypoint); a pod IP is that pod;
 * anything else passes through as addressed. The balancer state (a cursor
 * per Service port, open connections per endpoint, counted by `track`) is
 * shared by the agent's workers.
 */
export class Resolver {
  /** The ready endpoints of each Service port, compiled once per config generation, not per connection. */
  private compiled = new Map<string, Target[]>();
  private generation = -1;

  constructor(
    private readonly state: MeshState,
    /** Cursors and open counts, shared by every worker of the agent. */
    private readonly lb: BalancerState = sharedBalancerState(),
  ) {}

  /** The ready endpoints of a Service port, as targets (pod address and target port). */
  endpoints(service: Service, port: number): readonly Target[] {
    if (this.generation !== this.state.generation) {
      this.compiled = new Map();
      this.generation = this.state.generation;
    }
    const key = `${service.namespace}/${service.name}:${port}`;
    let list = this.compiled.get(key);
    if (!list) {
      list = [];
      for (const e of service.endpoints) {
        const target = e.ready ? e.ports.find((p) => p.servicePort === port)?.targetPort : undefined;
        if (target !== undefined) list.push({ ip: e.address, port: target, workload: e.workloadUid ? this.state.workload(e.workloadUid) : this.state.workloadAt(e.address), service });
      }
      this.compiled.set(key, list);
    }
    return list;
  }

  resolve(ip: string, port: number): Target | { error: string } {
    const service = this.state.serviceAt(ip);
    if (!service) return { ip, port, workload: this.state.workloadAt(ip), service: undefined };
    const candidates = this.endpoints(service, port);
    if (candidates.length === 0) return { error: `no ready endpoint of ${service.namespace}/${service.name} for port ${port}` };
    // Round robin over the eligible endpoints: all of them, or for LEAST_REQUEST those with the fewest open connections.
    const open = service.lbPolicy === 'LEAST_REQUEST' ? candidates.map((c) => this.lb.open(c.ip)) : undefined;
    const fewest = open ? Math.min(...open) : 0;
    const n = candidates.length;
    let at = this.lb.nextCursor(`${service.namespace}/${service.name}:${port}`, n);
    for (let i = 0; open && open[at] !== fewest && i < n; i++) at = (at + 1) % n;
    return candidates[at]!;
  }

  /** Counts a connection open to `ip` for LEAST_REQUEST; returns its release (idempotent), to call when the connection closes. */
  track(ip: string): () => void {
    return this.lb.track(ip);
  }
}
