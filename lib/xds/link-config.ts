import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { AmbitError } from '../errors.js';
import { DEFAULT_ROOT_CA_FILE, formatSpiffeId, parseSpiffeId, type TrustSource } from '../identity/index.js';
import type { TokenSource } from './auth.js';
import { INSECURE_CONTROL_PLANE_ENV, type ControlPlaneSecurity } from './credentials.js';

/**
 * How a node agent or a waypoint proxy reaches and trusts the controller:
 * the settings both read from the environment, named once.
 */
export interface ControllerLinkConfig {
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
  trustDomain: string;
}

export const LINK_ENV = {
  controllerAddress: 'AMBIT_CONTROLLER_ADDRESS',
  controllerToken: 'AMBIT_CONTROLLER_TOKEN',
  controllerTokenFile: 'AMBIT_CONTROLLER_TOKEN_FILE',
  controllerServerName: 'AMBIT_CONTROLLER_SERVER_NAME',
  controllerIdentity: 'AMBIT_CONTROLLER_IDENTITY',
  insecureControlPlane: INSECURE_CONTROL_PLANE_ENV,
  rootCaFile: 'AMBIT_ROOT_CA_FILE',
  trustDomain: 'AMBIT_TRUST_DOMAIN',
} as const;

/** The controller's Service and service account, when the address does not name them. */
export const CONTROLLER_DEFAULTS = { service: 'ambit-controller', namespace: 'ambit-system', serviceAccount: 'ambit-controller' } as const;

export function loadControllerLinkConfig(env: NodeJS.ProcessEnv): ControllerLinkConfig {
  const trustDomain = env[LINK_ENV.trustDomain] ?? 'cluster.local';
  const controllerAddress = env[LINK_ENV.controllerAddress] ?? `${CONTROLLER_DEFAULTS.service}.${CONTROLLER_DEFAULTS.namespace}.svc:15010`;
  const host = controllerAddress.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  const controllerIdentity = env[LINK_ENV.controllerIdentity] || formatSpiffeId({ trustDomain, namespace: CONTROLLER_DEFAULTS.namespace, serviceAccount: CONTROLLER_DEFAULTS.serviceAccount });
  const id = parseSpiffeId(controllerIdentity);
  if (!id.ok) throw new AmbitError('AMBIT_ERR_CONFIG', `${LINK_ENV.controllerIdentity}: ${id.error.message}`);
  const insecure = env[LINK_ENV.insecureControlPlane] || 'false';
  if (insecure !== 'true' && insecure !== 'false') throw new AmbitError('AMBIT_ERR_CONFIG', `${LINK_ENV.insecureControlPlane} must be true or false, got ${JSON.stringify(insecure)}`);
  return {
    controllerAddress,
    controllerServerName: env[LINK_ENV.controllerServerName] || (isIP(host) ? `${CONTROLLER_DEFAULTS.service}.${CONTROLLER_DEFAULTS.namespace}.svc` : host),
    controllerIdentity,
    insecureControlPlane: insecure === 'true',
    rootCaFile: env[LINK_ENV.rootCaFile] || DEFAULT_ROOT_CA_FILE,
    controllerToken: env[LINK_ENV.controllerToken],
    controllerTokenFile: env[LINK_ENV.controllerTokenFile],
    trustDomain,
  };
}

/** The bearer token to present: the file's current content when it is a (rotated, projected) file. */
export function linkToken(cfg: Readonly<ControllerLinkConfig>): TokenSource | undefined {
  const file = cfg.controllerTokenFile;
  return file ? () => readFileSync(file, 'utf8').trim() : cfg.controllerToken;
}

/** How the channel to the controller is verified: against the out-of-band roots, unless the development flag says plaintext. */
export function linkSecurity(cfg: Readonly<ControllerLinkConfig>, trust: TrustSource): ControlPlaneSecurity {
  return cfg.insecureControlPlane ? { kind: 'insecure' } : { kind: 'tls', trust, serverName: cfg.controllerServerName, identity: cfg.controllerIdentity };
}
