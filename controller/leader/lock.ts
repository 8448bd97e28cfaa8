import type { Result } from '../../lib/errors.js';

/**
 * The record leader election keeps in a coordination.k8s.io/v1 Lease (its
 * spec), and the one boundary the elector writes it through, so the state
 * machine runs as well against an in-memory fake as against an API server.
 */

/** A Lease's spec as the elector reads and writes it. */
export interface LeaseRecord {
  /** Who holds the Lease; '' once released. */
  holderIdentity: string;
  /** How long after a renewal the others wait before taking over (the API field is whole seconds). */
  leaseDurationSeconds: number;
  /**
   * When the holder took it and last renewed it, as the holder's clock said.
   * Written for people and tools; the elector never trusts another replica's
   * timestamps (clocks differ): it times a record by when it saw it change.
   */
  acquireTime: string | undefined;
  renewTime: string | undefined;
  /** How many times the Lease has changed hands. */
  leaseTransitions: number;
}

/** Why a lock request failed; `conflict` means someone else wrote first, the expected race. */
export interface LockFailure {
  reason: 'conflict' | 'error';
  /** The HTTP status, when one came back. */
  status?: number;
  message: string;
}

export interface LeaseLock {
  /** What the lock is, for logs and /debug/leader: `Lease <namespace>/<name>`. */
  readonly describe: string;
  /**
   * Reads the Lease: undefined when there is none. Remembers the version read,
   * which the next `update` writes over.
   */
  get(): Promise<Result<LeaseRecord | undefined, LockFailure>>;
  /** Creates the Lease; `conflict` when another replica created it first. */
  create(record: LeaseRecord): Promise<Result<void, LockFailure>>;
  /**
   * Replaces the Lease's record over the version last read or written (optimistic
   * concurrency): `conflict` when anyone wrote it since, so two replicas never
   * both succeed from the same observation.
   */
  update(record: LeaseRecord): Promise<Result<void, LockFailure>>;
}

/** Two records are the same observation when every field is (timestamps compared as written). */
export function sameRecord(a: LeaseRecord | undefined, b: LeaseRecord | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}
