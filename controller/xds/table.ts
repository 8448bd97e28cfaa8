import { createHash } from 'node:crypto';
import type { ResourceMap, ResourceType } from '../../lib/xds/types.js';
import { sameScope, type Scope } from '../model/scope.js';
import { encodeUpsert } from './encode.js';

/**
 * One resource type as the agents see it: every resource once, with its
 * content hash, its encoding (made once, for whichever agent is sent it
 * first) and its scope (which agents get it). A node's view is the resources
 * every agent gets plus those scoped to that node.
 *
 * Versions are content-derived: a set's version is the hash of its sorted
 * (name, hash) pairs, and a node's version the hash of the version of the
 * shared part and of the node's own part. Both parts are functions of the
 * content (whether a resource goes to all agents or to some is decided by
 * what it is), so the same view always has the same version, even across
 * controller restarts, and an agent that resumes with it is sent nothing.
 * Each part's version is cached until one of its members changes, so a
 * change costs one re-hash of the parts it touched, not one per agent.
 *
 * Every change of an entry's content or scope is logged with the table
 * generation it happened in, so moving an agent from what it acknowledged
 * (at some generation) to the current view costs a look at what changed
 * since, not a walk over the whole view.
 */

export interface Entry<T extends ResourceType = ResourceType> {
  readonly resource: ResourceMap[T];
  readonly hash: string;
  /** The encoded upsert, made on first use. */
  wire: Buffer | undefined;
}

/** What to send to move an agent from what it holds to a view. */
export interface Delta {
  upserts: string[];
  removals: string[];
}

/** The group of the resources every agent gets; never a node name. */
const ALL = '';

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(v as object)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);

/** The version of a set of (name, hash) pairs. */
function setVersion(pairs: Iterable<[string, string]>): string {
  return sha(
    [...pairs]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([n, h]) => `${n}\0${h}`)
      .join('\n'),
  );
}

export class TypeTable<T extends ResourceType> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly scopes = new Map<string, Scope>();
  /** Group (ALL or a node name) -> the names in it. */
  private readonly groups = new Map<string, Set<string>>([[ALL, new Set()]]);
  private readonly groupVersions = new Map<string, string>();
  private readonly nodeVersions = new Map<string, { gen: number; version: string }>();
  private gen = 0;
  /** Names whose content or scope changed, with the generation they changed in (ascending). */
  private log: { gen: number; name: string }[] = [];
  /** `changedSince(g)` is known for g >= logFloor. */
  private logFloor = 0;

  constructor(readonly type: T) {}

  /** Bumped by every update that changed an entry's content or scope. */
  get generation(): number {
    return this.gen;
  }

  /**
   * Brings the table to `resources`. An object seen before is not hashed
   * again; a new object with the same content keeps the entry's encoding.
   * Scopes are asked again for new content, and for every entry when
   * `rescope` says what they depend on changed.
   */
  update(resources: ReadonlyMap<string, ResourceMap[T]>, scopeOf: (r: ResourceMap[T]) => Scope, rescope: boolean): void {
    const changed = new Set<string>();
    for (const [name, resource] of resources) {
      const e = this.entries.get(name);
      let fresh = false;
      if (e?.resource !== resource) {
        const hash = sha(canonicalJson(resource));
        fresh = e?.hash !== hash;
        this.entries.set(name, { resource, hash, wire: fresh ? undefined : e!.wire });
      }
      if (!fresh && !rescope) continue;
      const scope = scopeOf(resource);
      const old = this.scopes.get(name);
      if (!fresh && sameScope(old, scope)) continue;
      this.place(name, old, scope);
      changed.add(name);
    }
    for (const name of this.entries.keys()) {
      if (resources.has(name)) continue;
      this.entries.delete(name);
      this.place(name, this.scopes.get(name), undefined);
      changed.add(name);
    }
    if (changed.size === 0) return;
    this.gen++;
    for (const name of changed) this.log.push({ gen: this.gen, name });
    this.trimLog();
  }

  /** Moves `name` from one scope to another (undefined: absent), dropping the cached versions of every group involved. */
  private place(name: string, from: Scope | undefined, to: Scope | undefined): void {
    for (const g of groupsOf(from)) {
      this.groupVersions.delete(g);
      const members = this.groups.get(g);
      members?.delete(name);
      if (g !== ALL && members?.size === 0) this.groups.delete(g);
    }
    for (const g of groupsOf(to)) {
      this.groupVersions.delete(g);
      let members = this.groups.get(g);
      if (!members) this.groups.set(g, (members = new Set()));
      members.add(name);
    }
    if (to === undefined) this.scopes.delete(name);
    else this.scopes.set(name, to);
  }

  private trimLog(): void {
    const max = 2 * Math.max(this.entries.size, 512);
    if (this.log.length <= max) return;
    let cut = this.log.length - max;
    const floor = this.log[cut - 1]!.gen;
    while (cut < this.log.length && this.log[cut]!.gen === floor) cut++;
    this.log = this.log.slice(cut);
    this.logFloor = floor;
  }

  private groupVersion(g: string): string {
    let v = this.groupVersions.get(g);
    if (v === undefined) {
      v = setVersion([...(this.groups.get(g) ?? [])].map((n) => [n, this.entries.get(n)!.hash]));
      this.groupVersions.set(g, v);
    }
    return v;
  }

  /** The version of `node`'s view. */
  version(node: string): string {
    const cached = this.nodeVersions.get(node);
    if (cached?.gen === this.gen) return cached.version;
    const version = sha(`${this.groupVersion(ALL)}\n${this.groupVersion(node)}`);
    this.nodeVersions.set(node, { gen: this.gen, version });
    return version;
  }

  /** The entry `name` as `node` sees it: undefined when it is not in the node's view. */
  get(node: string, name: string): Entry<T> | undefined {
    const scope = this.scopes.get(name);
    return scope === 'all' || scope?.has(node) ? this.entries.get(name) : undefined;
  }

  /** The names in `node`'s view. */
  *names(node: string): IterableIterator<string> {
    yield* this.groups.get(ALL)!;
    yield* this.groups.get(node) ?? [];
  }

  /** The encoded upsert of an entry. */
  wire(name: string): Buffer {
    const e = this.entries.get(name)!;
    e.wire ??= encodeUpsert(this.type, name, e.resource);
    return e.wire;
  }

  /**
   * What moves an agent of `node` holding `held` (name -> hash), which was
   * exact at generation `since`, to the node's current view: only the names
   * changed since are looked at, unless the log no longer reaches back that
   * far.
   */
  diff(node: string, held: ReadonlyMap<string, string>, since: number): Delta {
    const candidates = since >= this.logFloor ? this.changedSince(since) : new Set([...this.names(node), ...held.keys()]);
    const upserts: string[] = [];
    const removals: string[] = [];
    for (const name of candidates) {
      const e = this.get(node, name);
      const h = held.get(name);
      if (e && e.hash !== h) upserts.push(name);
      else if (!e && h !== undefined) removals.push(name);
    }
    return { upserts: upserts.sort(), removals: removals.sort() };
  }

  private changedSince(gen: number): Set<string> {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.log[mid]!.gen <= gen) lo = mid + 1;
      else hi = mid;
    }
    const out = new Set<string>();
    for (let i = lo; i < this.log.length; i++) out.add(this.log[i]!.name);
    return out;
  }

  /** Name -> hash of `node`'s whole view. */
  hashes(node: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const name of this.names(node)) out.set(name, this.entries.get(name)!.hash);
    return out;
  }
}

function groupsOf(scope: Scope | undefined): Iterable<string> {
  if (scope === undefined) return [];
  return scope === 'all' ? [ALL] : scope;
}
