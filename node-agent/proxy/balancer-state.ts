import { isIPv4 } from 'node:net';

/**
 * What the load balancer remembers between connections: a round-robin
 * cursor per Service port, and how many connections are open to each
 * endpoint (for LEAST_REQUEST). The agent's data path runs on several worker
 * threads; they share this state through one SharedArrayBuffer, updated with
 * atomics, so the agent balances as one (a connection held through one worker
 * counts for the choice another makes), as Envoy shares per-host counters
 * across its workers.
 */
export interface BalancerState {
  /** The next position of `key`'s cursor, modulo `n`. */
  nextCursor(key: string, n: number): number;
  /** Connections open to `ip`. */
  open(ip: string): number;
  /** Counts one more open to `ip`; returns its release (idempotent). */
  track(ip: string): () => void;
}

/** Slots per table; a table that fills up counts what it cannot place nowhere (balancing degrades to round robin, never fails). */
const SLOTS = 16_384;

/**
 * An open-addressing table of (uint32 key -> int32 value) in shared memory.
 * Keys are never removed: a slot, once taken by a key, stays its (endpoints
 * and Service ports come and go far more slowly than the table fills).
 */
class SharedTable {
  private readonly keys: Int32Array;
  private readonly values: Int32Array;

  constructor(buffer: SharedArrayBuffer, offset: number) {
    this.keys = new Int32Array(buffer, offset, SLOTS);
    this.values = new Int32Array(buffer, offset + SLOTS * 4, SLOTS);
  }

  static bytes(): number {
    return SLOTS * 8;
  }

  /** The slot of `key`, claimed if it has none (0 marks an empty slot, so key 0 is kept as 1). */
  private slot(key: number): number | undefined {
    const k = (key | 0) === 0 ? 1 : key | 0;
    for (let i = 0, at = (k >>> 0) % SLOTS; i < SLOTS; i++, at = (at + 1) % SLOTS) {
      const seen = Atomics.load(this.keys, at);
      if (seen === k) return at;
      if (seen === 0) {
        const was = Atomics.compareExchange(this.keys, at, 0, k);
        if (was === 0 || was === k) return at;
      }
    }
    return undefined;
  }

  add(key: number, delta: number): number {
    const at = this.slot(key);
    return at === undefined ? 0 : Atomics.add(this.values, at, delta) + delta;
  }

  get(key: number): number {
    const at = this.slot(key);
    return at === undefined ? 0 : Atomics.load(this.values, at);
  }
}

/** FNV-1a, 32 bits. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const ipKey = (ip: string): number => (isIPv4(ip) ? ip.split('.').reduce((a, o) => ((a << 8) | Number(o)) >>> 0, 0) : hash(ip));

/** The buffer one agent's workers share. */
export function newBalancerBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * SharedTable.bytes());
}

/** Balancer state in `buffer` (shared by every worker given the same buffer). */
export function sharedBalancerState(buffer: SharedArrayBuffer = newBalancerBuffer()): BalancerState {
  const cursors = new SharedTable(buffer, 0);
  const active = new SharedTable(buffer, SharedTable.bytes());
  return {
    // Atomics.add returns the old value: concurrent callers get consecutive positions.
    nextCursor: (key, n) => ((cursors.add(hash(key), 1) - 1) >>> 0) % n,
    open: (ip) => active.get(ipKey(ip)),
    track: (ip) => {
      const k = ipKey(ip);
      active.add(k, 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        active.add(k, -1);
      };
    },
  };
}
