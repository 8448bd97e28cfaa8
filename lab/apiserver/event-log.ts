import type { StoreEvent } from './types.js';

/**
 * The bounded history of store changes that watches resume from, like the
 * etcd watch window: once an event is evicted, a watch that needs it gets
 * 410 Gone and the client relists.
 */
export class EventLog {
  private readonly ring: (StoreEvent | undefined)[];
  private next = 0;
  private size = 0;
  /** The resourceVersion of the newest evicted event; 0 while nothing has been evicted. */
  private evictedUpTo = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`event log capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array<StoreEvent | undefined>(capacity);
  }

  push(event: StoreEvent): void {
    const evicted = this.ring[this.next];
    if (evicted) this.evictedUpTo = evicted.resourceVersion;
    this.ring[this.next] = event;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** The oldest resourceVersion a watch can still resume from. */
  oldestResumable(): number {
    return this.evictedUpTo;
  }

  /** Events newer than `rv`, oldest first; undefined if some of them were evicted. */
  since(rv: number): StoreEvent[] | undefined {
    if (rv < this.evictedUpTo) return undefined;
    const out: StoreEvent[] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) {
      const ev = this.ring[(start + i) % this.capacity]!;
      if (ev.resourceVersion > rv) out.push(ev);
    }
    return out;
  }
}
