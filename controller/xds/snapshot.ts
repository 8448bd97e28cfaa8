import { createHash } from 'node:crypto';
import type { ResourceMap, ResourceType } from '../../lib/xds/types.js';
import type { MeshModel } from '../model/model.js';

/**
 * Versioned resource sets. A resource's hash is the SHA-256 of its
 * canonical JSON (keys sorted), a type's version the hash of its sorted
 * (name, hash) pairs: the same set always has the same version, even across
 * controller restarts, so an agent that resumes with the current version is
 * sent nothing.
 */

export interface Entry<T extends ResourceType = ResourceType> {
  resource: ResourceMap[T];
  hash: string;
}

export interface TypeSnapshot<T extends ResourceType = ResourceType> {
  type: T;
  version: string;
  entries: ReadonlyMap<string, Entry<T>>;
}

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(v as object)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);

export function buildSnapshot<T extends ResourceType>(type: T, resources: ReadonlyMap<string, ResourceMap[T]>): TypeSnapshot<T> {
  const entries = new Map<string, Entry<T>>();
  for (const [name, resource] of resources) entries.set(name, { resource, hash: sha(canonicalJson(resource)) });
  const names = [...entries.keys()].sort();
  const version = sha(names.map((n) => `${n}\0${entries.get(n)!.hash}`).join('\n'));
  return { type, version, entries };
}

/** What to send to move an agent from `from` (name -> hash) to `to`. */
export function diffSnapshot(from: ReadonlyMap<string, string>, to: TypeSnapshot): { upserts: string[]; removals: string[] } {
  const upserts: string[] = [];
  for (const [name, e] of to.entries) if (from.get(name) !== e.hash) upserts.push(name);
  const removals: string[] = [];
  for (const name of from.keys()) if (!to.entries.has(name)) removals.push(name);
  return { upserts: upserts.sort(), removals: removals.sort() };
}

export function hashesOf(s: TypeSnapshot): Map<string, string> {
  return new Map([...s.entries].map(([n, e]) => [n, e.hash]));
}

/**
 * Snapshots of the model, rebuilt only when the model says a type changed.
 * Every agent currently sees the same view (all workloads, services and
 * policies, as ztunnel does); `forNode` is where a per-node filter would go.
 */
export class SnapshotCache {
  private readonly cache = new Map<ResourceType, { gen: number; snap: TypeSnapshot }>();

  constructor(private readonly model: MeshModel) {}

  get<T extends ResourceType>(type: T): TypeSnapshot<T> {
    const gen = this.model.typeGeneration(type);
    const hit = this.cache.get(type);
    if (hit && hit.gen === gen) return hit.snap as TypeSnapshot<T>;
    const snap = buildSnapshot(type, this.model.resources(type));
    this.cache.set(type, { gen, snap });
    return snap;
  }

  forNode<T extends ResourceType>(_node: string, type: T): TypeSnapshot<T> {
    return this.get(type);
  }
}
