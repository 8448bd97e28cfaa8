/**
 * The lab's Kubernetes API server: an in-memory object store with
 * Kubernetes semantics (resourceVersions, conflicts, watches, selectors) and
 * an HTTP front end that real clients — @kubernetes/client-node informers,
 * kubectl — use as they would a real kube-apiserver.
 */
export { ObjectStore } from './store.js';
export type { ListOptions, ListResult, ResourceRef, SelectOptions, StoreListener, StoreOptions, WatchListener, WatchOptions } from './store.js';
export { startApiServer } from './server.js';
export type { ApiServer, ApiServerOptions, AuditEntry } from './server.js';
export { TokenRegistry } from './tokens.js';
export { authorize, type PolicyRule, type RequestAttributes, type User } from './rbac.js';
export { RESOURCES, apiVersionOf, findByKind, findByPath, resolveResource } from './resources.js';
export type { ResourceType } from './resources.js';
export { fieldValue, labelSelectorFromObject, parseFieldSelector, parseLabelSelector } from './selectors.js';
export type { FieldRequirement, FieldSelector, LabelRequirement, LabelSelector } from './selectors.js';
export { ApiError, isApiError } from './status.js';
export type { Status, StatusReason } from './status.js';
export type { PatchType } from './patch.js';
export type { EventType, KubeObject, ObjectMeta, StoreEvent } from './types.js';
