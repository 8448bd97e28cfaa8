// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { RouteKind as _ambit_v1_RouteKind, RouteKind__Output as _ambit_v1_RouteKind__Output } from '../../ambit/v1/RouteKind.js';
import type { RouteParent as _ambit_v1_RouteParent, RouteParent__Output as _ambit_v1_RouteParent__Output } from '../../ambit/v1/RouteParent.js';
import type { RouteRule as _ambit_v1_RouteRule, RouteRule__Output as _ambit_v1_RouteRule__Output } from '../../ambit/v1/RouteRule.js';
import type { Long } from '@grpc/proto-loader';

/**
 * An HTTPRoute or GRPCRoute, compiled by the controller for waypoints (GAMMA:
 * it attaches to Services). Only valid routes with resolved references are
 * pushed, and only to the waypoints that serve one of its parents. Resource
 * name: "<kind>/<namespace>/<name>" (kind HTTPRoute or GRPCRoute).
 */
export interface Route {
  'namespace'?: (string);
  'name'?: (string);
  'kind'?: (_ambit_v1_RouteKind);
  /**
   * The accepted parentRefs: the Services whose requests this route governs.
   */
  'parents'?: (_ambit_v1_RouteParent)[];
  /**
   * Informational in a mesh: a waypoint picks a request's routes by the
   * Service the client addressed (the ClusterIP it dialled, which the tunnel's
   * CONNECT carries), never by Host or :authority, and does not match
   * hostnames (GAMMA: implementations SHOULD NOT infer anything from them).
   * Gateway API's MeshFrontendHostname sends to echo-v2's address with
   * "Host: echo-v1" and expects echo-v2's route, and the other way round.
   */
  'hostnames'?: (string)[];
  'rules'?: (_ambit_v1_RouteRule)[];
  /**
   * creationTimestamp in ms since the epoch (0 when unknown): between rules
   * equally specific, the older route wins (Gateway API precedence), then
   * "<namespace>/<name>" in alphabetical order.
   */
  'createdMs'?: (number | string | Long);
}

/**
 * An HTTPRoute or GRPCRoute, compiled by the controller for waypoints (GAMMA:
 * it attaches to Services). Only valid routes with resolved references are
 * pushed, and only to the waypoints that serve one of its parents. Resource
 * name: "<kind>/<namespace>/<name>" (kind HTTPRoute or GRPCRoute).
 */
export interface Route__Output {
  'namespace': (string);
  'name': (string);
  'kind': (_ambit_v1_RouteKind__Output);
  /**
   * The accepted parentRefs: the Services whose requests this route governs.
   */
  'parents': (_ambit_v1_RouteParent__Output)[];
  /**
   * Informational in a mesh: a waypoint picks a request's routes by the
   * Service the client addressed (the ClusterIP it dialled, which the tunnel's
   * CONNECT carries), never by Host or :authority, and does not match
   * hostnames (GAMMA: implementations SHOULD NOT infer anything from them).
   * Gateway API's MeshFrontendHostname sends to echo-v2's address with
   * "Host: echo-v1" and expects echo-v2's route, and the other way round.
   */
  'hostnames': (string)[];
  'rules': (_ambit_v1_RouteRule__Output)[];
  /**
   * creationTimestamp in ms since the epoch (0 when unknown): between rules
   * equally specific, the older route wins (Gateway API precedence), then
   * "<namespace>/<name>" in alphabetical order.
   */
  'createdMs': (string);
}
