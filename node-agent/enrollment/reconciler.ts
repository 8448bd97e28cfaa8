import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import { isMeshed } from '../../lib/mesh/index.js';
import type { Logger } from '../../lib/log.js';
import { cgroupIdOf, type Redirector } from '../bpf/loader.js';
import { findPodCgroup } from './cgroups.js';

export interface EnrolledPod {
  namespace: string;
  name: string;
  uid: string;
  ip: string | undefined;
  cgroup: string;
  cgroupId: bigint;
}

export interface PodView {
  pods(): readonly V1Pod[];
  namespace(name: string): V1Namespace | undefined;
}

/**
 * Keeps the kernel's set of enrolled cgroups equal to the meshed pods on this
 * node. Level-triggered: every call recomputes the whole desired set from the
 * informer caches and applies the difference, so a missed event or a
 * restarted agent converges the same way. A pod whose cgroup does not exist
 * yet (the API knew of it before the runtime made it) is retried.
 */
export class EnrollmentReconciler {
  private current = new Map<string, EnrolledPod>();
  private pending = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly view: PodView,
    private readonly redirector: Redirector,
    private readonly cgroupRoot: string,
    private readonly log: Logger,
    private readonly retryMs = 200,
  ) {}

  /** Coalesces bursts of informer events into one pass on the next tick. */
  schedule(): void {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      this.reconcile();
    });
  }

  reconcile(): void {
    const desired = new Map<string, EnrolledPod>();
    let unresolved = 0;
    for (const pod of this.view.pods()) {
      const uid = pod.metadata?.uid;
      if (!uid || pod.metadata?.deletionTimestamp) continue;
      if (!isMeshed(pod, this.view.namespace(pod.metadata?.namespace ?? 'default'))) continue;
      const known = this.current.get(uid);
      const cgroup = known?.cgroup ?? findPodCgroup(this.cgroupRoot, uid);
      if (!cgroup) {
        unresolved++;
        continue;
      }
      desired.set(uid, {
        namespace: pod.metadata?.namespace ?? 'default',
        name: pod.metadata?.name ?? '',
        uid,
        ip: pod.status?.podIP,
        cgroup,
        cgroupId: known?.cgroupId ?? cgroupIdOf(cgroup),
      });
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
