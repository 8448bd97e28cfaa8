import { isIPv4 } from 'node:net';
import { AmbitError } from '../lib/errors.js';
import { formatSpiffeId } from '../lib/identity/index.js';
import { LINK_ENV, loadControllerLinkConfig, type ControllerLinkConfig } from '../lib/xds/link-config.js';
import { workerCount } from '../node-agent/config.js';

/**
 * A waypoint proxy's configuration: every setting named once here, read from
 * the environment once at start (the Deployment the controller writes sets
 * them; the pod's name, namespace, node and IP come from the downward API),
 * validated and frozen.
 */
export interface WaypointConfig extends ControllerLinkConfig {
  /** The Waypoint this proxy serves: its namespace and name (also its service account). */
  namespace: string;
  name: string;
  /** This proxy's pod and the node it runs on (the config stream serves that node's view). */
  podName: string;
  nodeName: string;
  /** The pod's IP: HBONE (15008) and admin (15020) listen here. */
  podIp: string;
  hbonePort: number;
  adminPort: number;
  /** spiffe://<trust-domain>/ns/<namespace>/sa/<name> */
  identity: string;
  /** Worker threads serving HBONE (AMBIT_WORKERS: a number, or `auto` for the CPU limit; default 2). */
  workers: number;
}

export const ENV = {
  ...LINK_ENV,
  name: 'AMBIT_WAYPOINT_NAME',
  namespace: 'AMBIT_POD_NAMESPACE',
  podName: 'AMBIT_POD_NAME',
  nodeName: 'AMBIT_NODE_NAME',
  podIp: 'AMBIT_POD_IP',
  workers: 'AMBIT_WORKERS',
} as const;

export const WAYPOINT_PORTS = { hbone: 15008, admin: 15020 } as const;

export function loadWaypointConfig(env: NodeJS.ProcessEnv): Readonly<WaypointConfig> {
  const required = (key: string): string => {
    const v = env[key];
    if (!v) throw new AmbitError('AMBIT_ERR_CONFIG', `${key} is not set`);
    return v;
  };
  const link = loadControllerLinkConfig(env);
  const podIp = required(ENV.podIp);
  if (!isIPv4(podIp)) throw new AmbitError('AMBIT_ERR_CONFIG', `${ENV.podIp} must be an IPv4 address, got ${JSON.stringify(podIp)}`);
  const namespace = required(ENV.namespace);
  const name = required(ENV.name);
  return Object.freeze({
    ...link,
    namespace,
    name,
    podName: required(ENV.podName),
    nodeName: required(ENV.nodeName),
    podIp,
    hbonePort: WAYPOINT_PORTS.hbone,
    adminPort: WAYPOINT_PORTS.admin,
    identity: formatSpiffeId({ trustDomain: link.trustDomain, namespace, serviceAccount: name }),
    workers: workerCount(env[ENV.workers]),
  });
}
