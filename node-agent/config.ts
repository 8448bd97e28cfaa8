import { isIP, isIPv4 } from 'node:net';
import { resolve } from 'node:path';
import { AmbitError } from '../lib/errors.js';
import { DEFAULT_ROOT_CA_FILE, formatSpiffeId, parseSpiffeId } from '../lib/identity/index.js';
import { INSECURE_CONTROL_PLANE_ENV } from '../lib/xds/credentials.js';

/**
 * The agent's configuration: every setting named once here, read from the
 * environment once at start, validated and frozen.
 */
export interface AgentConfig {
  /** This node's name, as in the Node object and pods' spec.nodeName. */
  nodeName: string;
  /** API server URL and token; unset means in-cluster credentials. */
  kubeServer: string | undefined;
  kubeToken: string | undefined;
  /** The cgroup-v2 folder all of this node's pods live below (the programs attach here). */
  podCgroupRoot: string;
  /** bpffs folder this agent pins its maps and links in. */
  bpfPinDir: string;
  bpfObjectDir: string;
  /** The address redirected connections are sent to (an address of this node that pods route to). */
  redirectIp: string;
  outboundPort: number;
  /** Address the admin server (15020) listens on. */
  adminHost: string;
  adminPort: number;
  dnsPort: number;
  /** Detach the programs on shutdown (false keeps them for the next agent to re-adopt). */
  detachOnExit: boolean;
  /** The controller's gRPC address (config stream and CA), `host:port`. */
  controllerAddress: string;
  /** A DNS name the controller's certificate must carry (sent as SNI): the address's host if it is a name. */
  controllerServerName: string;
  /** The SPIFFE ID the controller's certificate must carry. */
  controllerIdentity: string;
  /** Plaintext to the controller: development only (AMBIT_INSECURE_CONTROL_PLANE=true). */
  insecureControlPlane: boolean;
  /** The trust bundle, read out of band (ConfigMap ambit-root-ca mounted as a file). */
  rootCaFile: string;
  /** Bootstrap credential presented to the controller (the lab's per-node token; in a cluster, a projected service-account token file). */
  controllerToken: string | undefined;
  controllerTokenFile: string | undefined;
  /** This node's address on the node network: HBONE (15008) listens here. */
  nodeIp: string;
  hbonePort: number;
  inboundPort: number;
  trustDomain: string;
  /** Install the inbound plaintext capture (STRICT/PERMISSIVE) for local meshed pods. */
  inboundCapture: boolean;
  /** Carry same-node connections in the kernel (sockmap) rather than splicing them in user space. */
  fastPath: boolean;
}

export const ENV = {
  nodeName: 'AMBIT_NODE_NAME',
  kubeServer: 'AMBIT_KUBE_SERVER',
  kubeToken: 'AMBIT_KUBE_TOKEN',
  podCgroupRoot: 'AMBIT_POD_CGROUP_ROOT',
  bpfPinDir: 'AMBIT_BPF_PIN_DIR',
  bpfObjectDir: 'AMBIT_BPF_OBJECT_DIR',
  redirectIp: 'AMBIT_REDIRECT_IP',
  adminHost: 'AMBIT_ADMIN_HOST',
  detachOnExit: 'AMBIT_DETACH_ON_EXIT',
  controllerAddress: 'AMBIT_CONTROLLER_ADDRESS',
  controllerToken: 'AMBIT_CONTROLLER_TOKEN',
  controllerTokenFile: 'AMBIT_CONTROLLER_TOKEN_FILE',
  controllerServerName: 'AMBIT_CONTROLLER_SERVER_NAME',
  controllerIdentity: 'AMBIT_CONTROLLER_IDENTITY',
  insecureControlPlane: INSECURE_CONTROL_PLANE_ENV,
  rootCaFile: 'AMBIT_ROOT_CA_FILE',
  nodeIp: 'AMBIT_NODE_IP',
  trustDomain: 'AMBIT_TRUST_DOMAIN',
  inboundCapture: 'AMBIT_INBOUND_CAPTURE',
  fastPath: 'AMBIT_FAST_PATH',
} as const;

/** The controller's Service and service account, when the address does not name them. */
export const CONTROLLER_DEFAULTS = { service: 'ambit-controller', namespace: 'ambit-system', serviceAccount: 'ambit-controller' } as const;

export const PORTS = { outbound: 15001, inbound: 15006, hbone: 15008, admin: 15020 } as const;

export function loadAgentConfig(env: NodeJS.ProcessEnv, repoRoot: string): Readonly<AgentConfig> {
  const required = (key: string): string => {
    const v = env[key];
    if (!v) throw new AmbitError('AMBIT_ERR_CONFIG', `${key} is not set`);
    return v;
  };
  const ip = (key: string, fallback?: string): string => {
    const v = env[key] ?? fallback;
    if (!v || !isIPv4(v)) throw new AmbitError('AMBIT_ERR_CONFIG', `${key} must be an IPv4 address, got ${JSON.stringify(v)}`);
    return v;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = env[key] || String(fallback);
    if (v !== 'true' && v !== 'false') throw new AmbitError('AMBIT_ERR_CONFIG', `${key} must be true or false, got ${JSON.stringify(v)}`);
    return v === 'true';
  };
  const trustDomain = env[ENV.trustDomain] ?? 'cluster.local';
  const controllerAddress = env[ENV.controllerAddress] ?? `${CONTROLLER_DEFAULTS.service}.${CONTROLLER_DEFAULTS.namespace}.svc:15010`;
  const host = controllerAddress.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  const controllerIdentity = env[ENV.controllerIdentity] || formatSpiffeId({ trustDomain, namespace: CONTROLLER_DEFAULTS.namespace, serviceAccount: CONTROLLER_DEFAULTS.serviceAccount });
  const id = parseSpiffeId(controllerIdentity);
  if (!id.ok) throw new AmbitError('AMBIT_ERR_CONFIG', `${ENV.controllerIdentity}: ${id.error.message}`);
  return Object.freeze({
    nodeName: required(ENV.nodeName),
    kubeServer: env[ENV.kubeServer],
    kubeToken: env[ENV.kubeToken],
    podCgroupRoot: required(ENV.podCgroupRoot),
    bpfPinDir: env[ENV.bpfPinDir] ?? '/sys/fs/bpf/ambit',
    bpfObjectDir: env[ENV.bpfObjectDir] ?? resolve(repoRoot, 'bpf', 'build'),
    redirectIp: ip(ENV.redirectIp),
    outboundPort: PORTS.outbound,
    adminHost: ip(ENV.adminHost, '0.0.0.0'),
    adminPort: PORTS.admin,
    dnsPort: 53,
    detachOnExit: env[ENV.detachOnExit] === 'true',
    controllerAddress,
    controllerServerName: env[ENV.controllerServerName] || (isIP(host) ? `${CONTROLLER_DEFAULTS.service}.${CONTROLLER_DEFAULTS.namespace}.svc` : host),
    controllerIdentity,
    insecureControlPlane: bool(ENV.insecureControlPlane, false),
    rootCaFile: env[ENV.rootCaFile] || DEFAULT_ROOT_CA_FILE,
    controllerToken: env[ENV.controllerToken],
    controllerTokenFile: env[ENV.controllerTokenFile],
    nodeIp: ip(ENV.nodeIp),
    hbonePort: PORTS.hbone,
    inboundPort: PORTS.inbound,
    trustDomain,
    inboundCapture: env[ENV.inboundCapture] !== 'false',
    fastPath: bool(ENV.fastPath, true),
  });
}
