/** The mesh model: informers in, per-type resources and queries out, policy status written back. */
export { MeshModel, type ModelChange, type ModelOptions } from './model.js';
export { ROUTE_KINDS, WATCHED_KINDS, type BookKind, type PolicyKind, type RouteKindName, type WatchedKind } from './kinds.js';
export { compileAuthorizationPolicy, compilePeerAuthentication, formatFieldErrors, type RawObject } from './policies.js';
export { SCOPE_INPUTS, sameScope, type Scope } from './scope.js';
export { startModelSources, type ModelSources } from './sources.js';
export { StatusReconciler, currentConditions, desiredConditions, kubeStatusPatcher, sameConditions, statusObjectRef, withTransitions, type Condition, type DesiredCondition, type StatusBody, type StatusKind, type StatusPatcher } from './status.js';
export { ROUTE_CONTROLLER_NAME, type RouteParentStatus } from './route-status.js';
export { compileRoute, grpcMethodPath, resolveRoute, type CompiledRoute, type RouteContext, type RouteResolution } from './routes.js';
export { WAYPOINT_POD_LABEL, isLiveWorkloadPod, isReadyPod } from './workloads.js';
