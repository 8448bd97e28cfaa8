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
] as const;
export type WatchedKind = (typeof WATCHED_KINDS)[number];

/** The pushed resource types each kind feeds; a change to a kind dirties exactly these. */
export const AFFECTS: Readonly<Record<WatchedKind, readonly ResourceType[]>> = {
  // Namespace, Service and Waypoint decide which Services a waypoint serves,
  // and so which targets of an AuthorizationPolicy the node agents enforce.
  Namespace: ['Workload', 'Service', 'AuthorizationPolicy'],
  Pod: ['Workload'],
  Service: ['Service', 'AuthorizationPolicy'],
  EndpointSlice: ['Service'],
  ServiceAccount: [],
  Node: ['Node'],
  Waypoint: ['Workload', 'Service', 'AuthorizationPolicy'],
  AuthorizationPolicy: ['AuthorizationPolicy'],
  PeerAuthentication: ['PeerAuthentication'],
  TrafficPolicy: ['Service'],
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
]);

/** The policy kinds the controller validates and writes status for. */
export const POLICY_KINDS = ['AuthorizationPolicy', 'PeerAuthentication', 'TrafficPolicy'] as const satisfies readonly WatchedKind[];
export type PolicyKind = (typeof POLICY_KINDS)[number];
