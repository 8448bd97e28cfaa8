import { isDeepStrictEqual } from 'node:util';
import { ApiError } from './status.js';

/**
 * The patch formats clients send: JSON merge patch (RFC 7386) and JSON patch
 * (RFC 6902) here; strategic merge patch in strategic-merge.ts. The
 * functions are pure: they return a new document.
 */

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

/** Maps a request Content-Type to a patch type, or undefined if it is not a patch media type. */
export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  switch (media) {
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/json-patch+json':
      return 'json';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+cbor':
      return 'apply';
    default:
      return undefined;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7386: objects merge recursively, `null` deletes a key, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

interface Op {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function invalid(message: string): ApiError {
  return new ApiError('Invalid', `json patch could not be applied: ${message}`);
}

function parsePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string' || (pointer !== '' && !pointer.startsWith('/'))) {
    throw new ApiError('BadRequest', `json patch: "${String(pointer)}" is not a JSON pointer`);
  }
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Resolves the container that holds the last token of a path. */
function parentOf(doc: unknown, tokens: string[], path: string): { parent: Record<string, unknown> | unknown[]; key: string } {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, path, false)];
    else if (isPlainObject(cur)) cur = cur[t];
    else throw invalid(`path "${path}" does not exist`);
  }
  if (!Array.isArray(cur) && !isPlainObject(cur)) throw invalid(`path "${path}" does not exist`);
  return { parent: cur, key: tokens[tokens.length - 1]! };
}

function arrayIndex(arr: unknown[], token: string, path: string, forAdd: boolean): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw invalid(`"${token}" in "${path}" is not an array index`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw invalid(`index ${i} in "${path}" is out of range`);
  return i;
}

function getAt(doc: unknown, tokens: string[], path: string): unknown {
  if (tokens.length === 0) return doc;
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, key, path, false)];
  if (!Object.prototype.hasOwnProperty.call(parent, key)) throw invalid(`path "${path}" does not exist`);
  return parent[key];
}

function removeAt(doc: unknown, tokens: string[], path: string): unknown {
  if (tokens.length === 0) throw invalid('cannot remove the whole document');
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, key, path, false), 1)[0];
  if (!Object.prototype.hasOwnProperty.call(parent, key)) throw invalid(`path "${path}" does not exist`);
  const old = parent[key];
  delete parent[key];
  return old;
}

/** Returns the new document (the root may be replaced). */
function addAt(doc: unknown, tokens: string[], path: string, value: unknown): unknown {
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, path, true), 0, value);
  else parent[key] = value;
  return doc;
}

/** RFC 6902 with add, remove, replace, move, copy and test. */
export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw new ApiError('BadRequest', 'json patch must be a JSON array of operations');
  let doc = structuredClone(target);
  for (const raw of patch) {
    if (!isPlainObject(raw) || typeof raw.op !== 'string') throw new ApiError('BadRequest', 'each json patch operation must be an object with "op" and "path"');
    const op = raw as unknown as Op;
    const tokens = parsePointer(op.path);
    switch (op.op) {
      case 'add':
        doc = addAt(doc, tokens, op.path, structuredClone(op.value));
        break;
      case 'remove':
        removeAt(doc, tokens, op.path);
        break;
      case 'replace':
        getAt(doc, tokens, op.path);
        if (tokens.length === 0) doc = structuredClone(op.value);
        else {
          removeAt(doc, tokens, op.path);
          doc = addAt(doc, tokens, op.path, structuredClone(op.value));
        }
        break;
      case 'move': {
        const from = parsePointer(op.from);
        const value = removeAt(doc, from, String(op.from));
        doc = addAt(doc, tokens, op.path, value);
        break;
      }
      case 'copy': {
        const value = getAt(doc, parsePointer(op.from), String(op.from));
        doc = addAt(doc, tokens, op.path, structuredClone(value));
        break;
      }
      case 'test':
        if (!isDeepStrictEqual(getAt(doc, tokens, op.path), op.value)) throw invalid(`test failed at "${op.path}"`);
        break;
      default:
        throw new ApiError('BadRequest', `json patch: unknown operation "${op.op}"`);
    }
  }
  return doc;
}
