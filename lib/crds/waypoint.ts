import type { KubeObject } from '../k8s/types.js';
import { AMBIT_API_VERSION } from './common.js';
import type { FieldError } from './fields.js';
import { validateCustomResource } from './schema.js';

/**
 * `Waypoint` (ambit.dev/v1alpha1): a per-namespace L7 proxy. The controller
 * creates a Deployment and a Service named after it.
 */

export const WAYPOINT_FOR = ['service', 'workload', 'all'] as const;
export type WaypointFor = (typeof WAYPOINT_FOR)[number];

export const WAYPOINT_DEFAULTS = Object.freeze({ for: 'service' as WaypointFor, replicas: 1 });

export interface WaypointSpec {
  /** Which traffic goes through it: addressed to Services (default), to workloads directly, or both. */
  for?: WaypointFor;
  /** Replicas of the waypoint Deployment; default 1. */
  replicas?: number;
}

export interface Waypoint extends KubeObject {
  kind: 'Waypoint';
  spec?: WaypointSpec;
}

/** Its CRD schema says it all (charts/ambit/crds/waypoints.ambit.dev.yaml). */
export function validateWaypoint(obj: unknown): FieldError[] {
  return validateCustomResource(AMBIT_API_VERSION, 'Waypoint', obj);
}
