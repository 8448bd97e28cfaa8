/** The mesh model: informers in, per-type resources and queries out, policy status written back. */
export { MeshModel, type ModelChange, type ModelOptions } from './model.js';
export { WATCHED_KINDS, type PolicyKind, type WatchedKind } from './kinds.js';
export { compileAuthorizationPolicy, compilePeerAuthentication, formatFieldErrors, type RawObject } from './policies.js';
export { SCOPE_INPUTS, sameScope, type Scope } from './scope.js';
export { startModelSources, type ModelSources } from './sources.js';
export { StatusReconciler, currentConditions, desiredConditions, kubeStatusPatcher, sameConditions, withTransitions, type Condition, type DesiredCondition, type StatusKind, type StatusPatcher } from './status.js';
export { WAYPOINT_POD_LABEL, isLiveWorkloadPod, isReadyPod } from './workloads.js';
