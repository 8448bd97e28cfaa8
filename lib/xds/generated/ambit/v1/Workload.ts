// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { WaypointRef as _ambit_v1_WaypointRef, WaypointRef__Output as _ambit_v1_WaypointRef__Output } from '../../ambit/v1/WaypointRef.js';

/**
 * A pod. Resource name: the pod uid.
 */
export interface Workload {
  'uid'?: (string);
  'namespace'?: (string);
  'name'?: (string);
  'serviceAccount'?: (string);
  'node'?: (string);
  /**
   * Pod IP; empty until the pod has one.
   */
  'ip'?: (string);
  /**
   * In the mesh: namespace opted in, pod not opted out, not host-network.
   */
  'meshed'?: (boolean);
  'labels'?: ({[key: string]: string});
  /**
   * Owning Deployment (or other controller), as metrics name it.
   */
  'workloadName'?: (string);
  /**
   * spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>
   */
  'identity'?: (string);
  /**
   * The waypoint that traffic addressed to this pod directly goes through; unset when none.
   */
  'waypoint'?: (_ambit_v1_WaypointRef | null);
}

/**
 * A pod. Resource name: the pod uid.
 */
export interface Workload__Output {
  'uid': (string);
  'namespace': (string);
  'name': (string);
  'serviceAccount': (string);
  'node': (string);
  /**
   * Pod IP; empty until the pod has one.
   */
  'ip': (string);
  /**
   * In the mesh: namespace opted in, pod not opted out, not host-network.
   */
  'meshed': (boolean);
  'labels': ({[key: string]: string});
  /**
   * Owning Deployment (or other controller), as metrics name it.
   */
  'workloadName': (string);
  /**
   * spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>
   */
  'identity': (string);
  /**
   * The waypoint that traffic addressed to this pod directly goes through; unset when none.
   */
  'waypoint': (_ambit_v1_WaypointRef__Output | null);
}
