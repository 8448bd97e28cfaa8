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
  /** Spans of the requests it forwards (waypoint/tracing.ts); W3C trace context is propagated whatever this says. */
  tracing: TracingConfig;
}

/**
 * Exporting one span per request (docs/operations.md, "Tracing"). Off unless
 * AMBIT_TRACING_ENDPOINT is set.
 *
 * - AMBIT_TRACING_ENDPOINT: the OTLP/HTTP traces URL of a collector, path
 *   included, e.g. `http://otel-collector.observability:4318/v1/traces`
 *   (protobuf over http or https). Unset or empty: nothing is exported.
 * - AMBIT_TRACING_SAMPLE_PERCENT: the share of the traces that start at the
 *   waypoint (no valid incoming traceparent) that are sampled, 0 to 100, decimals
 *   allowed (default 100). A trace that arrives with a traceparent keeps its
 *   caller's decision (its sampled flag), as OpenTelemetry's parent-based sampler does.
 */
export interface TracingConfig {
  endpoint: string | undefined;
  samplePercent: number;
}

export const ENV = {
  ...LINK_ENV,
  name: 'AMBIT_WAYPOINT_NAME',
  namespace: 'AMBIT_POD_NAMESPACE',
  podName: 'AMBIT_POD_NAME',
  nodeName: 'AMBIT_NODE_NAME',
  podIp: 'AMBIT_POD_IP',
  workers: 'AMBIT_WORKERS',
  tracingEndpoint: 'AMBIT_TRACING_ENDPOINT',
  tracingSamplePercent: 'AMBIT_TRACING_SAMPLE_PERCENT',
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
    tracing: Object.freeze(tracingConfig(env)),
  });
}

export function tracingConfig(env: NodeJS.ProcessEnv): TracingConfig {
  const endpoint = env[ENV.tracingEndpoint] || undefined;
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
      throw new AmbitError('AMBIT_ERR_CONFIG', `${ENV.tracingEndpoint} must be an http:// or https:// URL of an OTLP/HTTP traces endpoint (e.g. http://otel-collector.observability:4318/v1/traces), got ${JSON.stringify(endpoint)}`);
    }
    // Used as is, like OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: a bare collector address would post to `/` and get 404s.
    if (url.pathname === '/') throw new AmbitError('AMBIT_ERR_CONFIG', `${ENV.tracingEndpoint} is used as is and needs the path of the traces endpoint, usually ${url.origin}/v1/traces; got ${JSON.stringify(endpoint)}`);
  }
  const percent = env[ENV.tracingSamplePercent] || '100';
  const samplePercent = /^\d+(\.\d+)?$/.test(percent) ? Number(percent) : NaN;
  if (!(samplePercent >= 0 && samplePercent <= 100)) throw new AmbitError('AMBIT_ERR_CONFIG', `${ENV.tracingSamplePercent} must be a number 0..100, got ${JSON.stringify(percent)}`);
  return { endpoint, samplePercent };
}
