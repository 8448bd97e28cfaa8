/** Runs each Waypoint: its ServiceAccount, Deployment and Service, kept as it says, and its status. */
export { ApiRequestError, kubeOwnedObjects, type OwnedObjects } from './client.js';
export { waypointConditions, type WaypointFacts } from './conditions.js';
export { OWNED_KINDS, WAYPOINT_CONTAINER, WAYPOINT_ENV, WAYPOINT_PORTS, desiredObjects, drift, withDesired, type OwnedKind, type WaypointTarget, type WaypointTemplate } from './objects.js';
export { WaypointReconciler, type WaypointReconcilerOptions, type WaypointView } from './reconcile.js';
