/**
 * How many full states may be in flight at once, across all agents. A full
 * state is a node's whole view of a type in one message (about half a
 * megabyte of workloads at 2,000 pods); when every agent connects at once
 * (the controller restarts with versions the agents do not have, or a fresh
 * cluster), each would otherwise be encoded, framed and queued together, and
 * the controller's memory would peak at all of them. A connection that finds
 * no slot waits its turn and is woken, in order, when one frees.
 */
export class FullStateBudget {
  private used = 0;
  /** Insertion-ordered: first to wait, first woken. */
  private readonly waiting = new Set<() => void>();

  constructor(readonly limit: number) {}

  /** Takes a slot, or queues `wake` to be called once one frees. */
  take(wake: () => void): boolean {
    if (this.used < this.limit) {
      this.used++;
      this.waiting.delete(wake);
      return true;
    }
    this.waiting.add(wake);
    return false;
  }

  /** Gives a slot back (its message was ACKed, NACKed or its stream ended) and wakes those in line while slots are free. */
  release(): void {
    this.used--;
    for (const wake of this.waiting) {
      if (this.used >= this.limit) return;
      this.waiting.delete(wake);
      wake(); // takes a slot if it still needs one
    }
  }

  /** A connection that ended stops waiting. */
  forget(wake: () => void): void {
    this.waiting.delete(wake);
  }

  get inUse(): number {
    return this.used;
  }
}
