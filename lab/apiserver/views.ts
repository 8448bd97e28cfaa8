import { toCoreEvent, toV1Event, validateV1Event } from './events-v1.js';
import { findByPath, type ResourceType } from './resources.js';
import type { DraftObject, KubeObject } from './types.js';

/**
 * Resource types served over another type's storage, as kube-apiserver
 * serves one stored object in several API versions: each write is converted
 * to the stored shape, each read back to the shape asked for. Watchers of
 * either type see one ordered stream of the same objects.
 */
export interface StorageView {
  /** The type whose objects these are. */
  readonly storage: ResourceType;
  /**
   * The stored shape of a body written through the view; throws the API's
   * refusal. `old`: on an update, the stored object in the view's shape.
   */
  toStorage(obj: DraftObject, old?: Readonly<KubeObject>): DraftObject;
  /** A stored object in the view's shape. */
  fromStorage(obj: Readonly<KubeObject>): KubeObject;
}

const VIEWS = new Map<ResourceType, StorageView>();
const coreEvents = findByPath('', 'v1', 'events');
const v1Events = findByPath('events.k8s.io', 'v1', 'events');
if (coreEvents && v1Events) {
  VIEWS.set(v1Events, {
    storage: coreEvents,
    toStorage: (obj, old) => {
      validateV1Event(v1Events, obj, old);
      return toCoreEvent(obj);
    },
    fromStorage: toV1Event,
  });
}

/** How `res` is stored when another type holds its objects; undefined for a type with its own storage. */
export function viewOf(res: ResourceType): StorageView | undefined {
  return VIEWS.get(res);
}
