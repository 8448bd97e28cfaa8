import type { Logger } from '../../lib/log.js';
import { cgroupIdOf, type Redirector } from '../bpf/loader.js';
import { findPodCgroup } from './cgroups.js';

/** A pod of this node that the controller says is in the mesh. */
export interface MeshedPod {
  namespace: string;
  name: string;
  uid: string;
}

export interface EnrolledPod extends MeshedPod {
  cgroup: string;
  cgroupId: bigint;
}

/**
 * Keeps the kernel's set of enrolled cgroups equal to the meshed pods of this
 * node, as the controller's push says (the agent watches no Kubernetes object
 * itself). Level-triggered: every pass recomputes the whole desired set and
 * applies the difference, so a missed change or a restarted agent converges
 * the same way. It acts only once the agent has a complete config: before
 * that it cannot tell a pod that left the mesh from one it has not heard of
 * yet, and the kernel keeps what the last agent left. A pod whose cgroup does
 * not exist yet (the controller knew of it before the runtime made it) is
 * retried.
 */
export class EnrollmentReconciler {
  private current = new Map<string, EnrolledPod>();
  private pending = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly meshed: () => readonly MeshedPod[] | undefined,
    private readonly redirector: Redirector,
    private readonly cgroupRoot: string,
    private readonly log: Logger,
    private readonly retryMs = 200,
  ) {}

  /** Coalesces bursts of changes into one pass on the next tick. */
  schedule(): void {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      this.reconcile();
    });
  }

  reconcile(): void {
    const pods = this.meshed();
    if (pods === undefined) return; // no complete config yet
    const desired = new Map<string, EnrolledPod>();
    let unresolved = 0;
    for (const pod of pods) {
      const known = this.current.get(pod.uid);
      const cgroup = known?.cgroup ?? findPodCgroup(this.cgroupRoot, pod.uid);
      if (!cgroup) {
        unresolved++;
        continue;
      }
      desired.set(pod.uid, { namespace: pod.namespace, name: pod.name, uid: pod.uid, cgroup, cgroupId: known?.cgroupId ?? cgroupIdOf(cgroup) });
    }
    const desiredIds = new Set([...desired.values()].map((p) => p.cgroupId));
    for (const id of this.redirector.enrolled()) {
      if (!desiredIds.has(id)) {
        this.redirector.unenroll(id);
        const was = [...this.current.values()].find((p) => p.cgroupId === id);
        this.log.info({ pod: was ? `${was.namespace}/${was.name}` : undefined, cgroupId: String(id) }, 'pod left the mesh');
      }
    }
    const kernel = new Set(this.redirector.enrolled());
    for (const p of desired.values()) {
      if (kernel.has(p.cgroupId)) continue;
      this.redirector.enroll(p.cgroupId);
      this.log.info({ pod: `${p.namespace}/${p.name}`, cgroup: p.cgroup, cgroupId: String(p.cgroupId) }, 'pod joined the mesh');
    }
    this.current = desired;
    if (unresolved > 0 && !this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.reconcile();
      }, this.retryMs);
    }
  }

  enrolled(): EnrolledPod[] {
    return [...this.current.values()];
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }
}
