/**
 * The config protocol's types, as the code uses them: the decoded form
 * proto-loader gives (camelCase fields, enums as their names, every field
 * present: empty strings, lists and maps, `null` for an unset message). They
 * are generated from proto/ambit/v1/*.proto by scripts/gen-proto-types.sh
 * (lib/xds/generated/, the `__Output` types), so they cannot drift from the
 * wire; this module names them and adds the glue the .proto cannot say.
 * Field documentation lives in the .proto files.
 */
import type { Ack__Output } from './generated/ambit/v1/Ack.js';
import type { AgentMessage__Output } from './generated/ambit/v1/AgentMessage.js';
import type { AuthorizationAction__Output } from './generated/ambit/v1/AuthorizationAction.js';
import type { AuthorizationPolicy__Output } from './generated/ambit/v1/AuthorizationPolicy.js';
import type { CertResponse__Output } from './generated/ambit/v1/CertResponse.js';
import type { ConfigMessage__Output } from './generated/ambit/v1/ConfigMessage.js';
import type { CsrRequest__Output } from './generated/ambit/v1/CsrRequest.js';
import type { Endpoint__Output } from './generated/ambit/v1/Endpoint.js';
import type { Hello__Output } from './generated/ambit/v1/Hello.js';
import type { L4Condition__Output } from './generated/ambit/v1/L4Condition.js';
import type { L4Operation__Output } from './generated/ambit/v1/L4Operation.js';
import type { L4Rule__Output } from './generated/ambit/v1/L4Rule.js';
import type { L4Source__Output } from './generated/ambit/v1/L4Source.js';
import type { LoadBalancerPolicy__Output } from './generated/ambit/v1/LoadBalancerPolicy.js';
import type { MtlsMode__Output } from './generated/ambit/v1/MtlsMode.js';
import type { Node__Output } from './generated/ambit/v1/Node.js';
import type { PeerAuthentication__Output } from './generated/ambit/v1/PeerAuthentication.js';
import type { PolicyScope__Output } from './generated/ambit/v1/PolicyScope.js';
import type { PortMapping__Output } from './generated/ambit/v1/PortMapping.js';
import type { PortMtls__Output } from './generated/ambit/v1/PortMtls.js';
import type { Resource__Output } from './generated/ambit/v1/Resource.js';
import type { Service__Output } from './generated/ambit/v1/Service.js';
import type { ServicePort__Output } from './generated/ambit/v1/ServicePort.js';
import type { TargetRef__Output } from './generated/ambit/v1/TargetRef.js';
import type { WaypointRef__Output } from './generated/ambit/v1/WaypointRef.js';
import type { Workload__Output } from './generated/ambit/v1/Workload.js';
import type { WorkloadSelector__Output } from './generated/ambit/v1/WorkloadSelector.js';
import type { BackendRef__Output } from './generated/ambit/v1/BackendRef.js';
import type { ConnectionPool__Output } from './generated/ambit/v1/ConnectionPool.js';
import type { Fault__Output } from './generated/ambit/v1/Fault.js';
import type { Header__Output } from './generated/ambit/v1/Header.js';
import type { HeaderModifier__Output } from './generated/ambit/v1/HeaderModifier.js';
import type { LocalRateLimit__Output } from './generated/ambit/v1/LocalRateLimit.js';
import type { OutlierDetection__Output } from './generated/ambit/v1/OutlierDetection.js';
import type { PathModifier__Output } from './generated/ambit/v1/PathModifier.js';
import type { RequestMirror__Output } from './generated/ambit/v1/RequestMirror.js';
import type { RequestRedirect__Output } from './generated/ambit/v1/RequestRedirect.js';
import type { Retries__Output } from './generated/ambit/v1/Retries.js';
import type { Route__Output } from './generated/ambit/v1/Route.js';
import type { RouteBackend__Output } from './generated/ambit/v1/RouteBackend.js';
import type { RouteFilter__Output } from './generated/ambit/v1/RouteFilter.js';
import type { RouteKind__Output } from './generated/ambit/v1/RouteKind.js';
import type { RouteMatch__Output } from './generated/ambit/v1/RouteMatch.js';
import type { RouteParent__Output } from './generated/ambit/v1/RouteParent.js';
import type { RouteRule__Output } from './generated/ambit/v1/RouteRule.js';
import type { StringMatch__Output } from './generated/ambit/v1/StringMatch.js';
import type { StringMatchType__Output } from './generated/ambit/v1/StringMatchType.js';
import type { TrafficPolicy__Output } from './generated/ambit/v1/TrafficPolicy.js';
import type { UrlRewrite__Output } from './generated/ambit/v1/UrlRewrite.js';

export type WaypointRef = WaypointRef__Output;
/** A node of the cluster. Resource name: its name. */
export type Node = Node__Output;
/** A pod. Resource name: its uid. */
export type Workload = Workload__Output;
export type ServicePort = ServicePort__Output;
export type PortMapping = PortMapping__Output;
export type Endpoint = Endpoint__Output;
/** CONSISTENT_HASH is L7, so node agents balance it ROUND_ROBIN. */
export type LoadBalancerPolicy = LoadBalancerPolicy__Output;
/** Resource name: `<namespace>/<name>`. */
export type Service = Service__Output;
export type PolicyScope = PolicyScope__Output;
export type WorkloadSelector = WorkloadSelector__Output;
export type TargetRef = TargetRef__Output;
export type AuthorizationAction = AuthorizationAction__Output;
export type L4Source = L4Source__Output;
export type L4Operation = L4Operation__Output;
export type L4Condition = L4Condition__Output;
export type L4Rule = L4Rule__Output;
/** Resource name: `<namespace>/<name>`. */
export type AuthorizationPolicy = AuthorizationPolicy__Output;
export type MtlsMode = MtlsMode__Output;
export type PortMtls = PortMtls__Output;
/** Resource name: `<namespace>/<name>`. */
export type PeerAuthentication = PeerAuthentication__Output;

/** The L7 half of a Service's TrafficPolicy, which waypoints apply. */
export type TrafficPolicy = TrafficPolicy__Output;
export type BackendRef = BackendRef__Output;
export type ConnectionPool = ConnectionPool__Output;
export type Fault = Fault__Output;
export type Header = Header__Output;
export type HeaderModifier = HeaderModifier__Output;
export type LocalRateLimit = LocalRateLimit__Output;
export type OutlierDetection = OutlierDetection__Output;
export type PathModifier = PathModifier__Output;
export type RequestMirror = RequestMirror__Output;
export type RequestRedirect = RequestRedirect__Output;
export type Retries = Retries__Output;
export type RouteBackend = RouteBackend__Output;
export type RouteFilter = RouteFilter__Output;
export type RouteKind = RouteKind__Output;
export type RouteMatch = RouteMatch__Output;
export type RouteParent = RouteParent__Output;
export type RouteRule = RouteRule__Output;
export type StringMatch = StringMatch__Output;
export type StringMatchType = StringMatchType__Output;
export type UrlRewrite = UrlRewrite__Output;
/** An HTTPRoute or GRPCRoute compiled for waypoints. Resource name: `<kind>/<namespace>/<name>` (kind `HTTPRoute` or `GRPCRoute`). */
export type Route = Route__Output;

/** The resource types. The controller pushes them in its own order (controller/xds/agent.ts: the policies before the workloads and Services they cover). */
export const RESOURCE_TYPES = ['Node', 'Workload', 'Service', 'AuthorizationPolicy', 'PeerAuthentication', 'Route'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export interface ResourceMap {
  Node: Node;
  Workload: Workload;
  Service: Service;
  AuthorizationPolicy: AuthorizationPolicy;
  PeerAuthentication: PeerAuthentication;
  Route: Route;
}

export function isResourceType(s: unknown): s is ResourceType {
  return typeof s === 'string' && (RESOURCE_TYPES as readonly string[]).includes(s);
}

/** The wire wrapper: one resource of any type with its name, and which member is set (`kind`). */
export type WireResource = Resource__Output;

// ---- the MeshConfig stream ----
export type Hello = Hello__Output;
/** `error` set: a NACK. */
export type Ack = Ack__Output;
export type AgentMessage = AgentMessage__Output;
export type ConfigMessage = ConfigMessage__Output;

// ---- the MeshCA service ----
export type CsrRequest = CsrRequest__Output;
export type CertResponse = CertResponse__Output;
