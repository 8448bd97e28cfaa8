import { isDeepStrictEqual } from 'node:util';
import { isPlainObject } from './patch.js';

/**
 * Strategic merge patch without the Go type schemas. kubectl's client-side
 * apply sends these for built-in types, and its patches carry enough hints
 * to merge lists correctly: `$setElementOrder/<field>` names the merge key,
 * `$patch: delete` removes an element by key, `$deleteFromPrimitiveList/...`
 * removes scalars. Hand-written patches without hints merge lists by the
 * well-known keys below (containers by name, ...); any other list is
 * replaced, as a JSON merge patch would.
 */

// patchMergeKey of the list fields people patch most, from the k8s API types.
const KNOWN_MERGE_KEYS: Record<string, string[]> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  volumes: ['name'],
  env: ['name'],
  imagePullSecrets: ['name'],
  volumeMounts: ['mountPath'],
  ports: ['containerPort', 'port'],
  conditions: ['type'],
  ownerReferences: ['uid'],
};

const ORDER = '$setElementOrder/';
const DELETE_PRIMITIVES = '$deleteFromPrimitiveList/';

function directive(v: unknown): unknown {
  return isPlainObject(v) ? v.$patch : undefined;
}

/** A copy of a patch value with every `$` directive removed. */
function clean(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((e) => directive(e) === undefined).map(clean);
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$') && x !== null) out[k] = clean(x);
  return out;
}

/** The merge key named by `$setElementOrder` entries or `$patch` elements: their one non-directive field. */
function hintedKey(elements: readonly unknown[]): string | undefined {
  for (const e of elements) {
    if (!isPlainObject(e)) continue;
    const keys = Object.keys(e).filter((k) => !k.startsWith('$'));
    if (keys.length === 1) return keys[0];
  }
  return undefined;
}

/** The merge key of a list field of the built-in kinds (containers by name, ...), when every element has it. */
export function knownKey(field: string, elements: readonly unknown[]): string | undefined {
  return KNOWN_MERGE_KEYS[field]?.find((k) => elements.length > 0 && elements.every((e) => isPlainObject(e) && e[k] !== undefined));
}

function reorder(list: unknown[], order: readonly unknown[], key: string | undefined): unknown[] {
  const rank = (e: unknown): number => {
    const i = order.findIndex((o) => (key && isPlainObject(o) && isPlainObject(e) ? isDeepStrictEqual(o[key], e[key]) : isDeepStrictEqual(o, e)));
    return i === -1 ? order.length : i;
  };
  // Array.prototype.sort is stable, so elements the order does not name keep their relative order at the end.
  return [...list].sort((a, b) => rank(a) - rank(b));
}

function mergeList(field: string, target: unknown, patch: unknown[], order: unknown[] | undefined): unknown[] {
  if (patch.some((e) => directive(e) === 'replace')) return clean(patch) as unknown[];
  const hinted = order !== undefined || patch.some((e) => directive(e) !== undefined);
  const scalars = patch.every((e) => !isPlainObject(e)) && (order ?? []).every((e) => !isPlainObject(e));
  const key = hintedKey(order ?? []) ?? hintedKey(patch.filter((e) => directive(e) !== undefined)) ?? knownKey(field, patch);
  if (!(hinted && scalars) && key === undefined) return clean(patch) as unknown[];
  const out = Array.isArray(target) ? [...target] : [];
  if (scalars) {
    for (const v of patch) if (!out.some((t) => isDeepStrictEqual(t, v))) out.push(v);
  } else {
    for (const el of patch) {
      if (!isPlainObject(el)) continue;
      const same = (t: unknown) => isPlainObject(t) && isDeepStrictEqual(t[key!], el[key!]);
      if (directive(el) === 'delete') {
        for (let i = out.length - 1; i >= 0; i--) if (same(out[i])) out.splice(i, 1);
        continue;
      }
      const at = out.findIndex(same);
      if (at === -1) out.push(applyStrategicMergePatch(undefined, el));
      else out[at] = applyStrategicMergePatch(out[at], el);
    }
  }
  return order ? reorder(out, order, scalars ? undefined : key) : out;
}

/** Applies a strategic merge patch to a document; returns a new document (undefined if the patch deletes it). */
export function applyStrategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clean(patch);
  if (patch.$patch === 'delete') return undefined;
  if (patch.$patch === 'replace') return clean(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  const orders = new Map<string, unknown[]>();
  for (const [k, v] of Object.entries(patch)) if (k.startsWith(ORDER) && Array.isArray(v)) orders.set(k.slice(ORDER.length), v);
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith(DELETE_PRIMITIVES)) {
      const field = k.slice(DELETE_PRIMITIVES.length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(v)) result[field] = current.filter((x) => !v.some((d) => isDeepStrictEqual(d, x)));
      continue;
    }
    if (k.startsWith('$')) continue;
    if (v === null) delete result[k];
    else if (Array.isArray(v)) result[k] = mergeList(k, result[k], v, orders.get(k));
    else {
      const merged = applyStrategicMergePatch(result[k], v);
      if (merged === undefined) delete result[k];
      else result[k] = merged;
    }
  }
  // An order for a list the patch does not otherwise touch only reorders it.
  for (const [field, order] of orders) {
    const current = result[field];
    if (!(field in patch) && Array.isArray(current)) result[field] = reorder(current, order, hintedKey(order));
  }
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) for (const k of Object.keys(result)) if (!retain.includes(k)) delete result[k];
  return result;
}
