/** Leader election over a coordination.k8s.io/v1 Lease: which controller replica writes. */
export { ALWAYS_LEADER, LeaderElector, timingProblem, type ElectionStatus, type ElectionTiming, type Leadership, type LeaderElectorOptions } from './elector.js';
export { kubeLeaseLock, type KubeLeaseLockOptions } from './kube-lock.js';
export type { LeaseLock, LeaseRecord, LockFailure } from './lock.js';
