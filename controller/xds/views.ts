import { RESOURCE_TYPES, type ResourceType } from '../../lib/xds/types.js';
import type { MeshModel } from '../model/model.js';
import { SCOPE_INPUTS } from '../model/scope.js';
import { TypeTable } from './table.js';

/**
 * What each node's agent is to hold, per resource type: one table per type
 * shared by all agents (table.ts), brought up to date from the model on the
 * first question after a change. Which agents get which resource is the
 * model's call (model/scope.ts); how that grows with the cluster is in
 * ARCHITECTURE.md.
 */
export class NodeViews {
  private readonly tables = Object.fromEntries(RESOURCE_TYPES.map((t) => [t, new TypeTable(t)])) as { [T in ResourceType]: TypeTable<T> };
  /** The model generations each table reflects: its own type's, and those its scopes depend on. */
  private readonly seen = new Map<ResourceType, { own: number; inputs: string }>();

  constructor(private readonly model: MeshModel) {}

  /** The table of `type`, current with the model. */
  table<T extends ResourceType>(type: T): TypeTable<T> {
    const table = this.tables[type] as TypeTable<T>;
    const own = this.model.typeGeneration(type);
    const inputs = SCOPE_INPUTS[type].map((t) => this.model.typeGeneration(t)).join('/');
    const seen = this.seen.get(type);
    if (seen?.own !== own || seen.inputs !== inputs) {
      table.update(this.model.resources(type), (r) => this.model.scopeOf(type, r), seen !== undefined && seen.inputs !== inputs);
      this.seen.set(type, { own, inputs });
    }
    return table;
  }

  /** The version of `node`'s view of `type`. */
  version(node: string, type: ResourceType): string {
    return this.table(type).version(node);
  }
}
