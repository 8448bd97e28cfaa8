/**
 * Endpoint pickers for one Service, after Envoy's load balancers. Each picks
 * from a candidate list of "ip:port" keys that the caller has already
 * filtered (ready endpoints, OutlierDetector.available()), so none of them
 * knows about health.
 *
 * - ROUND_ROBIN: each candidate in turn. The cursor remembers the endpoint it
 *   picked last, not just an index, so when the list changes (an endpoint
 *   ejected, scaled, re-ordered) the rotation carries on after that endpoint
 *   instead of skipping or repeating one. It starts at a random place, as
 *   Envoy's does, so that proxies do not all hit the first endpoint together.
 * - LEAST_REQUEST: Envoy's power of two choices for equal weights: two
 *   candidates at random, the one with fewer requests in flight (started and
 *   not finished through this picker). Deliberate difference: the two draws
 *   are distinct (Envoy draws with replacement and may compare an endpoint
 *   with itself).
 * - CONSISTENT_HASH: Envoy's ring hash over the candidates, looked up with a
 *   hash of the lb_hash_header value. Every endpoint owns a fixed number of
 *   points on the ring whatever the number of endpoints (Envoy sizes its ring
 *   from the host count instead), so removing one endpoint moves only the keys
 *   it owned (about 1/N) and adding it back returns them. A request without
 *   the header gets a uniformly random candidate, as Envoy does (it hashes a
 *   random number). The hash is FNV-1a finished with murmur3's fmix32, not
 *   Envoy's xxHash: key -> endpoint maps differ from Envoy's.
 *
 * A picker belongs to one thread; its counts are not shared between workers.
 */
import type { LoadBalancerPolicy } from '../../lib/xds/index.js';
import type { Random } from './types.js';

export interface EndpointPicker {
  /**
   * An endpoint from `candidates`, or undefined when there is none (the caller
   * answers 503, flag UH). `hashKey`: the value of the Service's
   * lb_hash_header (several values joined as received), undefined when the
   * request has none; only CONSISTENT_HASH reads it.
   */
  pick(candidates: readonly string[], hashKey?: string): string | undefined;
  /** A request to `key` went out; LEAST_REQUEST balances on these. */
  start(key: string): void;
  /** That request ended (any outcome). */
  finish(key: string): void;
}

export function createPicker(policy: LoadBalancerPolicy, random: Random = Math.random): EndpointPicker {
  switch (policy) {
    case 'LEAST_REQUEST':
      return new LeastRequestPicker(random);
    case 'CONSISTENT_HASH':
      return new RingHashPicker(random);
    case 'ROUND_ROBIN':
      return new RoundRobinPicker(random);
  }
}

export class RoundRobinPicker implements EndpointPicker {
  private lastKey: string | undefined;
  private lastIndex = 0;

  constructor(private readonly random: Random = Math.random) {}

  pick(candidates: readonly string[], _hashKey?: string): string | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    let next: number;
    if (this.lastKey === undefined) next = Math.floor(this.random() * n);
    else if (candidates[this.lastIndex] === this.lastKey) next = this.lastIndex + 1;
    else {
      const at = candidates.indexOf(this.lastKey);
      // Gone: whatever took its place is the one after it.
      next = at >= 0 ? at + 1 : this.lastIndex;
    }
    next %= n;
    this.lastIndex = next;
    this.lastKey = candidates[next]!;
    return this.lastKey;
  }

  start(_key: string): void {}
  finish(_key: string): void {}
}

export class LeastRequestPicker implements EndpointPicker {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly random: Random = Math.random) {}

  pick(candidates: readonly string[], _hashKey?: string): string | undefined {
    const n = candidates.length;
    if (n <= 1) return candidates[0];
    const i = Math.floor(this.random() * n);
    let j = Math.floor(this.random() * (n - 1));
    if (j >= i) j++;
    const a = candidates[i]!;
    const b = candidates[j]!;
    return this.active(b) < this.active(a) ? b : a;
  }

  start(key: string): void {
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
  }

  finish(key: string): void {
    const n = this.inFlight.get(key);
    if (n === undefined) return; // unmatched: never below zero
    if (n <= 1) this.inFlight.delete(key);
    else this.inFlight.set(key, n - 1);
  }

  /** Requests in flight to `key`. */
  active(key: string): number {
    return this.inFlight.get(key) ?? 0;
  }
}

/** Points each endpoint owns on the ring (std. deviation of an endpoint's share about 1/sqrt of it). */
export const RING_POINTS_PER_ENDPOINT = 128;

export class RingHashPicker implements EndpointPicker {
  private ring: HashRing | undefined;
  /** The candidate list last seen, and the subset of the ring it allows (undefined: all of it). */
  private input: readonly string[] | undefined;
  private accept: ReadonlySet<string> | undefined;

  constructor(private readonly random: Random = Math.random) {}

  pick(candidates: readonly string[], hashKey?: string): string | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    if (hashKey === undefined) return candidates[Math.floor(this.random() * n)];
    if (candidates !== this.input) this.adopt(candidates);
    return this.ring!.lookup(hash32(hashKey), this.accept);
  }

  start(_key: string): void {}
  finish(_key: string): void {}

  /**
   * An endpoint's points do not depend on the others, so a ring over more
   * endpoints than the candidates, skipping the others on lookup, answers
   * exactly as a ring over the candidates alone. So an ejection (a subset)
   * needs no rebuild; a newcomer, or a ring more than twice the candidates
   * (long skips), does.
   */
  private adopt(candidates: readonly string[]): void {
    this.input = candidates;
    const set = new Set(candidates);
    let ring = this.ring;
    if (!ring || ring.size > 2 * set.size || !everyIn(set, ring)) ring = this.ring = new HashRing(set);
    this.accept = set.size === ring.size ? undefined : set;
  }
}

const everyIn = (keys: Iterable<string>, ring: HashRing): boolean => {
  for (const k of keys) if (!ring.has(k)) return false;
  return true;
};

/** A ring of endpoint keys; the same set of keys gives the same ring whatever their order. */
export class HashRing {
  private readonly keys: readonly string[];
  private readonly index: ReadonlyMap<string, number>;
  private readonly points: Uint32Array;
  private readonly owners: Uint32Array;

  constructor(endpoints: Iterable<string>, perEndpoint = RING_POINTS_PER_ENDPOINT) {
    this.keys = [...new Set(endpoints)].sort();
    this.index = new Map(this.keys.map((k, i) => [k, i]));
    const points = new Uint32Array(this.keys.length * perEndpoint);
    const owners = new Uint32Array(points.length);
    this.keys.forEach((key, owner) => {
      const base = hash32(key);
      for (let v = 0; v < perEndpoint; v++) {
        // The v-th point: a bijective mix of (key hash + v x golden ratio).
        points[owner * perEndpoint + v] = fmix32((base + Math.imul(v + 1, 0x9e3779b9)) | 0);
        owners[owner * perEndpoint + v] = owner;
      }
    });
    // Stable, so equal points stay in key order: the ring does not depend on the input order.
    radixSort(points, owners);
    this.points = points;
    this.owners = owners;
  }

  get size(): number {
    return this.keys.length;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  /**
   * The owner of the first point at or after `hash`, wrapping round; with
   * `accept`, the first such owner in it (undefined when none of the ring is).
   */
  lookup(hash: number, accept?: ReadonlySet<string>): string | undefined {
    const points = this.points;
    const total = points.length;
    if (total === 0) return undefined;
    let lo = 0;
    let hi = total;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    for (let step = 0; step < total; step++) {
      const key = this.keys[this.owners[(lo + step) % total]!]!;
      if (!accept || accept.has(key)) return key;
    }
    return undefined;
  }
}

/** Sorts `points` ascending, carrying `owners` along; stable (LSD radix, 4 passes of 8 bits). */
function radixSort(points: Uint32Array, owners: Uint32Array): void {
  let srcP: Uint32Array = points;
  let srcO: Uint32Array = owners;
  let dstP: Uint32Array = new Uint32Array(points.length);
  let dstO: Uint32Array = new Uint32Array(points.length);
  const starts = new Uint32Array(256);
  for (let shift = 0; shift < 32; shift += 8) {
    starts.fill(0);
    for (let i = 0; i < srcP.length; i++) starts[(srcP[i]! >>> shift) & 255]!++;
    let sum = 0;
    for (let b = 0; b < 256; b++) {
      const c = starts[b]!;
      starts[b] = sum;
      sum += c;
    }
    for (let i = 0; i < srcP.length; i++) {
      const at = starts[(srcP[i]! >>> shift) & 255]!++;
      dstP[at] = srcP[i]!;
      dstO[at] = srcO[i]!;
    }
    [srcP, dstP] = [dstP, srcP];
    [srcO, dstO] = [dstO, srcO];
  }
  // An even number of passes: the sorted result is back in the caller's arrays.
}

/** A 32-bit hash of a string: FNV-1a over its UTF-16 code units, then fmix32 for avalanche. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** murmur3's 32-bit finalizer: a bijection that spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
