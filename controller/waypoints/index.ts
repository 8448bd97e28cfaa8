/** Runs each Waypoint: its ServiceAccount, Deployment and Service, kept as it says, the trust bundle beside it, and its status. */
export { ApiRequestError, kubeBundleConfigMaps, kubeOwnedObjects, type OwnedObjects } from './client.js';
export { waypointConditions, type WaypointFacts } from './conditions.js';
export {
  OWNED_KINDS,
  WAYPOINT_CONTAINER,
  WAYPOINT_ENV,
  WAYPOINT_PORTS,
  WAYPOINT_VOLUMES,
  desiredObjects,
  drift,
  withDesired,
  type OwnedKind,
  type WaypointResources,
  type WaypointTarget,
  type WaypointTemplate,
} from './objects.js';
export { WaypointReconciler, type WaypointReconcilerOptions, type WaypointView } from './reconcile.js';
export { TrustBundleCopies, trustBundleCopy, type BundleConfigMaps, type TrustBundleCopiesOptions } from './trust-bundle.js';
