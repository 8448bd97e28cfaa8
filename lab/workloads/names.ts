import { createHash } from 'node:crypto';

/**
 * The naming schemes of the Kubernetes controllers the lab stands in for:
 * template hashes and random suffixes in the consonant-and-digit alphabet
 * that keeps generated names from spelling words, and stable UIDs for objects
 * whose manifests carry none.
 */

/** k8s.io/apimachinery `rand` alphabet: no vowels, no 0/1/3 (confusable with o/l/e). */
export const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A source of numbers in [0, 1), like Math.random; injectable for tests. */
export type Random = () => number;

/** FNV-1a, 32 bit, over UTF-8: what Kubernetes hashes pod templates with. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** `rand.SafeEncodeString`: each character mapped into the alphabet by its code. */
export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += NAME_ALPHABET[s.charCodeAt(i) % NAME_ALPHABET.length];
  return out;
}

/** JSON with object keys sorted at every level, so equal values hash equally whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x === undefined ? null : x)).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * The `pod-template-hash` of a pod template: 10 characters, the FNV-1a hash's
 * decimal digits (zero-padded) safe-encoded, as Kubernetes does. The value
 * differs from a real cluster's (which hashes Go's dump of the struct) but
 * has the same shape and the same property: it changes exactly when the
 * template does.
 */
export function templateHash(template: unknown): string {
  return safeEncode(String(fnv1a32(canonicalJson(template))).padStart(10, '0'));
}

/** `n` characters drawn from the alphabet with `random`. */
export function randomString(n: number, random: Random): string {
  let out = '';
  for (let i = 0; i < n; i++) {
    const r = random();
    const idx = Math.min(NAME_ALPHABET.length - 1, Math.max(0, Math.floor((Number.isFinite(r) ? r : 0) * NAME_ALPHABET.length)));
    out += NAME_ALPHABET[idx];
  }
  return out;
}

/**
 * `prefix` plus five random characters, not in `taken` (which it joins): the name a controller
 * gives a pod it creates. Throws after 100 collisions (a stuck random source).
 */
export function freeName(prefix: string, taken: Set<string>, random: Random): string {
  for (let attempt = 0; attempt < 100; attempt++) {
    const name = `${prefix}${randomString(5, random)}`;
    if (taken.has(name)) continue;
    taken.add(name);
    return name;
  }
  throw new Error(`could not find a free name for ${prefix}* after 100 tries (is the random source stuck?)`);
}

/** Five alphabet characters derived from `text`: stable names where Kubernetes would pick random ones. */
export function hashSuffix(text: string): string {
  let h = fnv1a32(text);
  let out = '';
  for (let i = 0; i < 5; i++) {
    out += NAME_ALPHABET[h % NAME_ALPHABET.length];
    h = Math.floor(h / NAME_ALPHABET.length);
  }
  return out;
}

/** A UUID (version 5 layout) derived from `parts`, for objects the lab creates or that came without a uid. */
export function stableUid(...parts: string[]): string {
  const hex = createHash('sha1').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
