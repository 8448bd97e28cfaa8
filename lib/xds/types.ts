/**
 * TypeScript mirrors of proto/ambit/v1/*.proto, in the form proto-loader
 * gives them (camelCase fields, enums as strings, every field present on a
 * decoded message: empty strings, empty lists and maps, `null` for an unset
 * message field). Keep them in step with the .proto files; proto.test.ts
 * round-trips one of each.
 */

export interface WaypointRef {
  namespace: string;
  name: string;
}

/** A node of the cluster. Resource name: its name. */
export interface Node {
  name: string;
  /** InternalIP: the node agent's HBONE (15008) listens there. */
  ip: string;
}

/** A pod. Resource name: its uid. */
export interface Workload {
  uid: string;
  namespace: string;
  name: string;
  serviceAccount: string;
  node: string;
  /** Empty until the pod has an IP. */
  ip: string;
  meshed: boolean;
  labels: Record<string, string>;
  workloadName: string;
  /** `spiffe://<td>/ns/<ns>/sa/<sa>` */
  identity: string;
  waypoint: WaypointRef | null;
}

export interface ServicePort {
  name: string;
  port: number;
  /** 0 when the Service names its target port (`targetPortName`). */
  targetPort: number;
  targetPortName: string;
  protocol: string;
  appProtocol: string;
}

export interface PortMapping {
  servicePort: number;
  targetPort: number;
}

export interface Endpoint {
  /** Empty for an endpoint that is not a pod. */
  workloadUid: string;
  address: string;
  node: string;
  ready: boolean;
  ports: PortMapping[];
}

/** The proto `LoadBalancerPolicy`: CONSISTENT_HASH is L7, so node agents balance it ROUND_ROBIN. */
export type LoadBalancerPolicy = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'CONSISTENT_HASH';

/** Resource name: `<namespace>/<name>`. */
export interface Service {
  namespace: string;
  name: string;
  hostname: string;
  /** Empty for a headless Service. */
  clusterIp: string;
  ports: ServicePort[];
  endpoints: Endpoint[];
  waypoint: WaypointRef | null;
  /** From the TrafficPolicy targeting the Service; ROUND_ROBIN when none does. */
  lbPolicy: LoadBalancerPolicy;
  /** The header CONSISTENT_HASH hashes; empty otherwise. */
  lbHashHeader: string;
}

export type PolicyScope = 'NAMESPACE' | 'MESH' | 'WORKLOAD_SELECTOR' | 'TARGET_REFS';

export interface WorkloadSelector {
  matchLabels: Record<string, string>;
}

export interface TargetRef {
  group: string;
  kind: string;
  name: string;
}

export type AuthorizationAction = 'ALLOW' | 'DENY' | 'AUDIT';

export interface L4Source {
  /** `<td>/ns/<ns>/sa/<sa>`, without `spiffe://`; `*` prefix/suffix wildcards. */
  principals: string[];
  notPrincipals: string[];
  namespaces: string[];
  notNamespaces: string[];
  ipBlocks: string[];
  notIpBlocks: string[];
}

export interface L4Operation {
  ports: number[];
  notPorts: number[];
}

export interface L4Condition {
  key: string;
  values: string[];
  notValues: string[];
}

/**
 * Matches when any `from`, any `to` and every `when` match (empty lists match
 * anything). `hasL7`: L7 fields were left out; at L4 an ALLOW rule with them
 * matches nothing and a DENY rule matches on its L4 parts alone (fail closed).
 */
export interface L4Rule {
  from: L4Source[];
  to: L4Operation[];
  when: L4Condition[];
  hasL7: boolean;
}

/** Resource name: `<namespace>/<name>`. */
export interface AuthorizationPolicy {
  namespace: string;
  name: string;
  scope: PolicyScope;
  selector: WorkloadSelector | null;
  targetRefs: TargetRef[];
  action: AuthorizationAction;
  rules: L4Rule[];
  hasL7: boolean;
  /**
   * TARGET_REFS only: the target Services no waypoint serves, by name in the
   * policy's namespace. The node agents of their endpoints enforce the policy
   * on the Service's target ports; the other targets are not theirs.
   */
  nodeAgentServices: string[];
}

export type MtlsMode = 'UNSET' | 'STRICT' | 'PERMISSIVE';

export interface PortMtls {
  port: number;
  mode: MtlsMode;
}

/** Resource name: `<namespace>/<name>`. */
export interface PeerAuthentication {
  namespace: string;
  name: string;
  scope: PolicyScope;
  selector: WorkloadSelector | null;
  mode: MtlsMode;
  portLevelMtls: PortMtls[];
}

/** The resource types, in the order the controller pushes them (referenced before referencing). */
export const RESOURCE_TYPES = ['Node', 'Workload', 'Service', 'AuthorizationPolicy', 'PeerAuthentication'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export interface ResourceMap {
  Node: Node;
  Workload: Workload;
  Service: Service;
  AuthorizationPolicy: AuthorizationPolicy;
  PeerAuthentication: PeerAuthentication;
}

export function isResourceType(s: unknown): s is ResourceType {
  return typeof s === 'string' && (RESOURCE_TYPES as readonly string[]).includes(s);
}

/** The wire wrapper: one resource of any type with its name. */
export interface WireResource {
  name: string;
  workload?: Workload | null;
  service?: Service | null;
  authorizationPolicy?: AuthorizationPolicy | null;
  peerAuthentication?: PeerAuthentication | null;
  node?: Node | null;
  /** Which member is set (proto-loader `oneofs: true`). */
  kind?: 'workload' | 'service' | 'authorizationPolicy' | 'peerAuthentication' | 'node';
}

// ---- the MeshConfig stream ----

export interface Hello {
  nodeName: string;
  agentVersion: string;
  /** Resource type -> last applied version. */
  knownVersions: Record<string, string>;
}

export interface Ack {
  type: string;
  version: string;
  nonce: string;
  /** Set: a NACK. */
  error: { message: string } | null;
}

export interface AgentMessage {
  hello?: Hello | null;
  ack?: Ack | null;
  message?: 'hello' | 'ack';
}

export interface ConfigMessage {
  type: string;
  version: string;
  nonce: string;
  upserts: WireResource[];
  removals: string[];
  fullState: boolean;
}

// ---- the MeshCA service ----

export interface CsrRequest {
  csrPem: string;
  spiffeId: string;
  /** 0: the CA's default. */
  ttlSeconds: number;
}

export interface CertResponse {
  certChainPem: string;
  /** The controller's trust bundle, for diagnostics only: never a trust anchor (see ca.proto). */
  rootPem: string;
}
