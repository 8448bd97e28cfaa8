import type { Service, Workload } from '../../lib/xds/index.js';
import type { MeshState } from '../state/mesh-state.js';

/** Where a captured connection goes, once the original destination is resolved. */
export interface Target {
  ip: string;
  port: number;
  /** The destination pod, when it is one the mesh knows. */
  workload: Workload | undefined;
  /** The Service the client addressed, if it used a ClusterIP. */
  service: Service | undefined;
}

export type LbPolicy = 'RoundRobin' | 'LeastRequest';

/**
 * Resolves an original destination: a ClusterIP picks a ready endpoint of
 * the Service (round robin, or least open connections); a pod IP is that pod;
 * anything else passes through as addressed. Owns the balancer state.
 */
export class Resolver {
  private readonly cursor = new Map<string, number>();
  private readonly active = new Map<string, number>();

  constructor(
    private readonly state: MeshState,
    private readonly policy: () => LbPolicy = () => 'RoundRobin',
  ) {}

  resolve(ip: string, port: number): Target | { error: string } {
    const service = this.state.serviceAt(ip);
    if (!service) return { ip, port, workload: this.state.workloadAt(ip), service: undefined };
    const candidates = service.endpoints
      .filter((e) => e.ready)
      .map((e) => ({ e, target: e.ports.find((p) => p.servicePort === port)?.targetPort }))
      .filter((c): c is { e: (typeof service.endpoints)[number]; target: number } => c.target !== undefined);
    if (candidates.length === 0) return { error: `no ready endpoint of ${service.namespace}/${service.name} for port ${port}` };
    const key = `${service.namespace}/${service.name}:${port}`;
    let pick = candidates[0]!;
    if (this.policy() === 'LeastRequest') {
      pick = candidates.reduce((best, c) => ((this.active.get(c.e.address) ?? 0) < (this.active.get(best.e.address) ?? 0) ? c : best));
    } else {
      const i = this.cursor.get(key) ?? 0;
      pick = candidates[i % candidates.length]!;
      this.cursor.set(key, (i + 1) % candidates.length);
    }
    return {
      ip: pick.e.address,
      port: pick.target,
      workload: pick.e.workloadUid ? this.state.workload(pick.e.workloadUid) : this.state.workloadAt(pick.e.address),
      service,
    };
  }

  /** Tracks open connections per endpoint for least-request balancing; returns the release. */
  track(ip: string): () => void {
    this.active.set(ip, (this.active.get(ip) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.active.get(ip) ?? 1) - 1;
      if (n <= 0) this.active.delete(ip);
      else this.active.set(ip, n);
    };
  }
}
