// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { ServicePort as _ambit_v1_ServicePort, ServicePort__Output as _ambit_v1_ServicePort__Output } from '../../ambit/v1/ServicePort.js';
import type { Endpoint as _ambit_v1_Endpoint, Endpoint__Output as _ambit_v1_Endpoint__Output } from '../../ambit/v1/Endpoint.js';
import type { WaypointRef as _ambit_v1_WaypointRef, WaypointRef__Output as _ambit_v1_WaypointRef__Output } from '../../ambit/v1/WaypointRef.js';
import type { LoadBalancerPolicy as _ambit_v1_LoadBalancerPolicy, LoadBalancerPolicy__Output as _ambit_v1_LoadBalancerPolicy__Output } from '../../ambit/v1/LoadBalancerPolicy.js';
import type { TrafficPolicy as _ambit_v1_TrafficPolicy, TrafficPolicy__Output as _ambit_v1_TrafficPolicy__Output } from '../../ambit/v1/TrafficPolicy.js';

/**
 * A Service with its endpoints (from EndpointSlices). Resource name: "<namespace>/<name>".
 */
export interface Service {
  'namespace'?: (string);
  'name'?: (string);
  /**
   * <name>.<namespace>.svc.cluster.local
   */
  'hostname'?: (string);
  /**
   * Empty for a headless Service.
   */
  'clusterIp'?: (string);
  'ports'?: (_ambit_v1_ServicePort)[];
  'endpoints'?: (_ambit_v1_Endpoint)[];
  'waypoint'?: (_ambit_v1_WaypointRef | null);
  'lbPolicy'?: (_ambit_v1_LoadBalancerPolicy);
  /**
   * The header hashed by CONSISTENT_HASH; empty otherwise.
   */
  'lbHashHeader'?: (string);
  /**
   * The L7 parts of the TrafficPolicy in force for this Service, which a
   * waypoint applies; unset when no policy targets the Service.
   */
  'trafficPolicy'?: (_ambit_v1_TrafficPolicy | null);
}

/**
 * A Service with its endpoints (from EndpointSlices). Resource name: "<namespace>/<name>".
 */
export interface Service__Output {
  'namespace': (string);
  'name': (string);
  /**
   * <name>.<namespace>.svc.cluster.local
   */
  'hostname': (string);
  /**
   * Empty for a headless Service.
   */
  'clusterIp': (string);
  'ports': (_ambit_v1_ServicePort__Output)[];
  'endpoints': (_ambit_v1_Endpoint__Output)[];
  'waypoint': (_ambit_v1_WaypointRef__Output | null);
  'lbPolicy': (_ambit_v1_LoadBalancerPolicy__Output);
  /**
   * The header hashed by CONSISTENT_HASH; empty otherwise.
   */
  'lbHashHeader': (string);
  /**
   * The L7 parts of the TrafficPolicy in force for this Service, which a
   * waypoint applies; unset when no policy targets the Service.
   */
  'trafficPolicy': (_ambit_v1_TrafficPolicy__Output | null);
}
