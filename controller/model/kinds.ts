import type { ResourceType } from '../../lib/xds/types.js';

/** The Kubernetes kinds the model is built from. */
export const WATCHED_KINDS = [
  'Namespace',
  'Pod',
  'Service',
  'EndpointSlice',
  'ServiceAccount',
  'Node',
  'Waypoint',
  'AuthorizationPolicy',
  'PeerAuthentication',
  'TrafficPolicy',
  'HTTPRoute',
  'GRPCRoute',
] as const;
export type WatchedKind = (typeof WATCHED_KINDS)[number];

/** The pushed resource types each kind feeds; a change to a kind dirties exactly these. */
export const AFFECTS: Readonly<Record<WatchedKind, readonly ResourceType[]>> = {
  // Namespace, Service and Waypoint decide which Services a waypoint serves,
  // and so which targets of an AuthorizationPolicy the node agents enforce
  // and which parents accept a route (a Service also resolves its backends).
  Namespace: ['Workload', 'Service', 'AuthorizationPolicy', 'Route'],
  Pod: ['Workload'],
  Service: ['Service', 'AuthorizationPolicy', 'Route'],
  EndpointSlice: ['Service'],
  ServiceAccount: [],
  Node: ['Node'],
  Waypoint: ['Workload', 'Service', 'AuthorizationPolicy', 'Route'],
  AuthorizationPolicy: ['AuthorizationPolicy'],
  PeerAuthentication: ['PeerAuthentication'],
  TrafficPolicy: ['Service'],
  HTTPRoute: ['Route'],
  GRPCRoute: ['Route'],
};

/** Kinds whose changes can change a policy's status conditions (an AuthorizationPolicy's Enforced names pods and endpoints). */
export const AFFECTS_STATUS: ReadonlySet<WatchedKind> = new Set([
  'Namespace',
  'Pod',
  'Service',
  'EndpointSlice',
  'Waypoint',
  'AuthorizationPolicy',
  'PeerAuthentication',
  'TrafficPolicy',
  'HTTPRoute',
  'GRPCRoute',
]);

/** The policy kinds the controller validates and writes status for. */
export const POLICY_KINDS = ['AuthorizationPolicy', 'PeerAuthentication', 'TrafficPolicy'] as const satisfies readonly WatchedKind[];
export type PolicyKind = (typeof POLICY_KINDS)[number];

/** The Gateway API route kinds, validated like the policies (last good version kept) and written status per parent. */
export const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute'] as const satisfies readonly WatchedKind[];
export type RouteKindName = (typeof ROUTE_KINDS)[number];

/** The kinds kept in a book of validated objects (policies.ts PolicyBook). */
export type BookKind = PolicyKind | RouteKindName;
