import type { ResourceMap, ResourceType, WireResource } from './types.js';

/** The member of the wire `Resource` oneof that carries each type. */
export const WIRE_FIELD = {
  Node: 'node',
  Workload: 'workload',
  Service: 'service',
  AuthorizationPolicy: 'authorizationPolicy',
  PeerAuthentication: 'peerAuthentication',
  Route: 'route',
} as const satisfies Record<ResourceType, keyof WireResource>;

/** The Kubernetes kind a Route was compiled from, as its resource name spells it. */
export const ROUTE_KIND_NAMES = { HTTP: 'HTTPRoute', GRPC: 'GRPCRoute' } as const satisfies Record<ResourceMap['Route']['kind'], string>;

/**
 * The name a resource is keyed by in upserts and removals: a Workload's uid, a
 * Node's name, a Route's `<kind>/<namespace>/<name>` (an HTTPRoute and a
 * GRPCRoute may share a name), otherwise `<namespace>/<name>`.
 */
export function resourceName<T extends ResourceType>(type: T, r: ResourceMap[T]): string {
  if (type === 'Workload') return (r as ResourceMap['Workload']).uid;
  if (type === 'Node') return (r as ResourceMap['Node']).name;
  if (type === 'Route') {
    const route = r as ResourceMap['Route'];
    return `${ROUTE_KIND_NAMES[route.kind]}/${route.namespace}/${route.name}`;
  }
  const named = r as { namespace: string; name: string };
  return `${named.namespace}/${named.name}`;
}

export function toWire<T extends ResourceType>(type: T, name: string, r: ResourceMap[T]): WireResource {
  return { name, [WIRE_FIELD[type]]: r };
}

/** The resource of `type` inside a wire wrapper, or undefined when it carries another type (a protocol error). */
export function fromWire<T extends ResourceType>(type: T, w: WireResource): ResourceMap[T] | undefined {
  const v = w[WIRE_FIELD[type]];
  return v ? (v as ResourceMap[T]) : undefined;
}
