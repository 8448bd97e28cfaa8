import type { KubeObject } from '../k8s/types.js';
import { objectSpec } from './common.js';
import { field, guarded, type FieldError } from './fields.js';

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

export function validateWaypoint(obj: unknown): FieldError[] {
  return guarded('', (f) => {
    const { spec } = objectSpec(f, obj);
    if (!spec) return;
    f.onlyKnown(spec, 'spec', ['for', 'replicas']);
    f.oneOf(field(spec, 'for'), 'spec.for', WAYPOINT_FOR);
    f.int(field(spec, 'replicas'), 'spec.replicas', { min: 0, max: 100 });
  });
}
