import type { ResourceType } from './resources.js';

import type { KubeObject, ObjectMeta } from '../../lib/k8s/types.js';

/**
 * Stored objects use the project-wide shape (lib/k8s/types), so what the
 * store returns can be handed to the controller and lab code as is: every
 * stored object has apiVersion, kind, metadata.name, uid and resourceVersion.
 */
export type { KubeObject, ObjectMeta };

/** A request body after shape checks: what a client sent, before the store names and versions it. */
export interface DraftObject {
  apiVersion: string;
  kind: string;
  metadata: Partial<ObjectMeta>;
  [field: string]: unknown;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * One change in the store. `object` is the new state (for DELETED, the last
 * state stamped with the deletion's resourceVersion); `oldObject` is the
 * state before a MODIFIED. Both are frozen snapshots shared by every
 * listener: clone before changing them.
 */
export interface StoreEvent {
  readonly type: EventType;
  readonly resource: ResourceType;
  readonly object: Readonly<KubeObject>;
  readonly oldObject?: Readonly<KubeObject>;
  /** The store-wide resourceVersion this change produced. */
  readonly resourceVersion: number;
}
