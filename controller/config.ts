import { ENV as WAYPOINT_ENV, tracingConfig, type TracingConfig } from '../waypoint/config.js';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import pkg from '../package.json' with { type: 'json' };
import { parseDuration } from '../lib/crds/duration.js';
import { AmbitError } from '../lib/errors.js';
import { DEFAULT_TRUST_DOMAIN, ROOT_CA_CONFIGMAP, formatSpiffeId, validateTrustDomain } from '../lib/identity/index.js';
import { INSECURE_CONTROL_PLANE_ENV } from '../lib/xds/credentials.js';
import { timingProblem, type ElectionTiming } from './leader/index.js';
import type { WaypointResources, WaypointTemplate } from './waypoints/index.js';

/**
 * The controller's configuration: every setting named once here, read from
 * the environment once at start, validated and frozen.
 */

export type CaStoreConfig = { kind: 'directory'; dir: string } | { kind: 'secret'; namespace: string; name: string };

export type AgentAuthConfig =
  | { kind: 'static'; tokens: Readonly<Record<string, string>> }
  | { kind: 'tokenreview'; serviceAccounts: readonly string[] };

/** Which replica writes: the one holding the Lease `namespace/leaseName`. */
export interface LeaderElectionConfig extends ElectionTiming {
  namespace: string;
  leaseName: string;
  /** This replica's name in the Lease: the pod name (AMBIT_POD_NAME), else the host name (a pod's is its name). */
  identity: string;
}

export interface ControllerConfig {
  /** API server URL and token; unset means in-cluster credentials (or kubeconfig). */
  kubeServer: string | undefined;
  kubeToken: string | undefined;
  /** The controller's own namespace (CA Secret lives here). */
  namespace: string;
  /** Policies here without a selector are mesh-wide. */
  rootNamespace: string;
  trustDomain: string;
  grpcHost: string;
  grpcPort: number;
  /** Plaintext gRPC on 15010: development only (AMBIT_INSECURE_CONTROL_PLANE=true); TLS otherwise. */
  insecureControlPlane: boolean;
  /** Who the controller's serving certificate (from its own CA) says it is. */
  serving: {
    /** spiffe://<td>/ns/<namespace>/sa/<service account> */
    spiffeId: string;
    /** The names of its Service: `<svc>.<ns>.svc`, `<svc>.<ns>.svc.<cluster domain>`, `<svc>.<ns>`. */
    dnsNames: readonly string[];
    ttlMs: number;
  };
  /** The ConfigMap in `namespace` the trust bundle is published to (agents mount it). */
  rootCaConfigMap: string;
  /** The controller's own Deployment (AMBIT_CONTROLLER_DEPLOYMENT, set by the chart), which owns the trust bundle ConfigMap; unset when run outside one. */
  deployment: string | undefined;
  adminHost: string;
  adminPort: number;
  ca: CaStoreConfig;
  certDefaultTtlMs: number;
  certMaxTtlMs: number;
  agentAuth: AgentAuthConfig;
  /**
   * The audiences a service-account token presented to the controller must carry (its
   * TokenReview asks for them): node agents' in a cluster, waypoint proxies' everywhere.
   * Waypoint Deployments' projected tokens are minted for the first.
   */
  tokenAudiences: readonly string[];
  /** Bursts of changes are pushed once quiet this long (a lone change at once), but at most `pushDebounceMaxMs` after they began. */
  pushDebounceMs: number;
  pushDebounceMaxMs: number;
  /** Write policy status conditions and run the Waypoints' Deployments (off on replicas that are never to write). */
  writeStatus: boolean;
  /** This replica's name: the pod name (AMBIT_POD_NAME), else the host name (a pod's is its name). Its Lease identity, its Events' reportingInstance. */
  podName: string;
  /**
   * Set: replicas elect which of them writes (status, Waypoints); the others
   * serve agents only. Unset (the default, for one process run by hand or in
   * the lab without it): this replica writes whenever writeStatus is on.
   */
  leaderElection: Readonly<LeaderElectionConfig> | undefined;
  /** Where agents and waypoints dial the config stream (`host:port`); handed to every waypoint Deployment. */
  controllerAddress: string;
  /** The container image of waypoint proxies (run with args `["waypoint"]`). */
  waypointImage: string;
  /**
   * Where waypoints export spans (AMBIT_TRACING_ENDPOINT, AMBIT_TRACING_SAMPLE_PERCENT, read and
   * checked as a waypoint reads them): handed to every waypoint Deployment; off when unset.
   */
  waypointTracing: TracingConfig;
  /** The resources of the waypoint container (AMBIT_WAYPOINT_RESOURCES, JSON as the chart's `waypoint.resources`). */
  waypointResources: WaypointResources;
  /** How often the dashboard reads the proxies' /metrics for the service graph; 0 turns the scraping (and the graph) off. */
  dashboardScrapeIntervalMs: number;
}

export const ENV = {
  kubeServer: 'AMBIT_KUBE_SERVER',
  kubeToken: 'AMBIT_KUBE_TOKEN',
  namespace: 'AMBIT_NAMESPACE',
  podNamespace: 'POD_NAMESPACE',
  rootNamespace: 'AMBIT_ROOT_NAMESPACE',
  trustDomain: 'AMBIT_TRUST_DOMAIN',
  grpcHost: 'AMBIT_GRPC_HOST',
  grpcPort: 'AMBIT_GRPC_PORT',
  insecureControlPlane: INSECURE_CONTROL_PLANE_ENV,
  serviceAccount: 'AMBIT_SERVICE_ACCOUNT',
  serviceName: 'AMBIT_SERVICE_NAME',
  clusterDomain: 'AMBIT_CLUSTER_DOMAIN',
  servingCertTtl: 'AMBIT_SERVING_CERT_TTL',
  rootCaConfigMap: 'AMBIT_ROOT_CA_CONFIGMAP',
  deployment: 'AMBIT_CONTROLLER_DEPLOYMENT',
  adminHost: 'AMBIT_ADMIN_HOST',
  adminPort: 'AMBIT_ADMIN_PORT',
  caDir: 'AMBIT_CA_DIR',
  caSecret: 'AMBIT_CA_SECRET',
  certTtl: 'AMBIT_CERT_TTL',
  certMaxTtl: 'AMBIT_CERT_MAX_TTL',
  agentTokens: 'AMBIT_AGENT_TOKENS',
  agentServiceAccounts: 'AMBIT_AGENT_SERVICE_ACCOUNTS',
  agentTokenAudiences: 'AMBIT_AGENT_TOKEN_AUDIENCES',
  pushDebounce: 'AMBIT_PUSH_DEBOUNCE',
  pushDebounceMax: 'AMBIT_PUSH_DEBOUNCE_MAX',
  writeStatus: 'AMBIT_WRITE_STATUS',
  leaderElection: 'AMBIT_LEADER_ELECTION',
  leaseName: 'AMBIT_LEASE_NAME',
  leaseDuration: 'AMBIT_LEASE_DURATION',
  leaseRenewDeadline: 'AMBIT_LEASE_RENEW_DEADLINE',
  leaseRetryPeriod: 'AMBIT_LEASE_RETRY_PERIOD',
  podName: 'AMBIT_POD_NAME',
  controllerAddress: 'AMBIT_CONTROLLER_ADDRESS',
  waypointImage: 'AMBIT_WAYPOINT_IMAGE',
  waypointResources: 'AMBIT_WAYPOINT_RESOURCES',
  tracingEndpoint: WAYPOINT_ENV.tracingEndpoint,
  tracingSamplePercent: WAYPOINT_ENV.tracingSamplePercent,
  dashboardScrapeInterval: 'AMBIT_DASHBOARD_SCRAPE_INTERVAL',
} as const;

export const PORTS = { grpc: 15010, admin: 15014 } as const;

export const DEFAULTS = {
  namespace: 'ambit-system',
  caSecret: 'ambit-ca',
  agentServiceAccount: 'ambit-node-agent',
  serviceAccount: 'ambit-controller',
  serviceName: 'ambit-controller',
  clusterDomain: 'cluster.local',
  servingCertTtl: '24h',
  certTtl: '24h',
  certMaxTtl: '48h',
  pushDebounce: '100ms',
  pushDebounceMax: '1s',
  waypointImage: `ghcr.io/ambit-mesh/ambit:${pkg.version}`,
  // The chart's defaults (values.yaml tokenAudience and waypoint.resources).
  tokenAudience: 'ambit-controller',
  waypointResources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } },
  // client-go's defaults, as kube-controller-manager runs with.
  leaseName: 'ambit-controller',
  leaseDuration: '15s',
  leaseRenewDeadline: '10s',
  leaseRetryPeriod: '2s',
  dashboardScrapeInterval: '5s',
} as const;

const bad = (key: string, why: string): AmbitError => new AmbitError('AMBIT_ERR_CONFIG', `${key} ${why}`);

export function loadControllerConfig(env: NodeJS.ProcessEnv): Readonly<ControllerConfig> {
  const str = (key: string): string | undefined => (env[key] === undefined || env[key] === '' ? undefined : env[key]);
  const host = (key: string, fallback: string): string => {
    const v = str(key) ?? fallback;
    if (!isIP(v)) throw bad(key, `must be an IP address, got ${JSON.stringify(v)}`);
    return v;
  };
  const port = (key: string, fallback: number): number => {
    const v = str(key);
    if (v === undefined) return fallback;
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!(n >= 0 && n <= 65535)) throw bad(key, `must be a port number 0..65535, got ${JSON.stringify(v)}`);
    return n;
  };
  const duration = (key: string, fallback: string): number => {
    const v = str(key) ?? fallback;
    const ms = parseDuration(v);
    if (ms === undefined) throw bad(key, `must be a duration like "24h", "90s" or "250ms", got ${JSON.stringify(v)}`);
    return ms;
  };
  const list = (key: string): string[] | undefined => str(key)?.split(',').map((s) => s.trim()).filter(Boolean);
  const bool = (key: string, fallback: boolean): boolean => {
    const v = str(key) ?? String(fallback);
    if (v !== 'true' && v !== 'false') throw bad(key, `must be true or false, got ${JSON.stringify(v)}`);
    return v === 'true';
  };
  const dnsLabel = (key: string, fallback: string): string => {
    const v = str(key) ?? fallback;
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(v)) throw bad(key, `must be a DNS label (lower case, digits, '-'), got ${JSON.stringify(v)}`);
    return v;
  };

  const td = str(ENV.trustDomain) ?? DEFAULT_TRUST_DOMAIN;
  const tdCheck = validateTrustDomain(td);
  if (!tdCheck.ok) throw bad(ENV.trustDomain, tdCheck.error.message);

  const namespace = str(ENV.namespace) ?? str(ENV.podNamespace) ?? DEFAULTS.namespace;

  const caDir = str(ENV.caDir);
  const ca: CaStoreConfig = caDir ? { kind: 'directory', dir: caDir } : { kind: 'secret', namespace, name: str(ENV.caSecret) ?? DEFAULTS.caSecret };

  let agentAuth: AgentAuthConfig;
  const tokensJson = str(ENV.agentTokens);
  if (tokensJson !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(tokensJson);
    } catch (err) {
      throw bad(ENV.agentTokens, `must be a JSON object of node name -> token (${(err as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((t) => typeof t === 'string' && t.length > 0)) {
      throw bad(ENV.agentTokens, 'must be a JSON object of node name -> non-empty token string');
    }
    agentAuth = { kind: 'static', tokens: Object.freeze({ ...(parsed as Record<string, string>) }) };
  } else {
    const serviceAccounts = list(ENV.agentServiceAccounts) ?? [`${namespace}/${DEFAULTS.agentServiceAccount}`];
    for (const sa of serviceAccounts) if (!/^[a-z0-9-]+\/[a-z0-9.-]+$/.test(sa)) throw bad(ENV.agentServiceAccounts, `entries must be namespace/name, got ${JSON.stringify(sa)}`);
    agentAuth = { kind: 'tokenreview', serviceAccounts: Object.freeze(serviceAccounts) };
  }
  const tokenAudiences = list(ENV.agentTokenAudiences) ?? [DEFAULTS.tokenAudience];
  for (const a of tokenAudiences) if (/\s/.test(a)) throw bad(ENV.agentTokenAudiences, `must be audiences separated by commas, got ${JSON.stringify(a)}`);

  const certDefaultTtlMs = duration(ENV.certTtl, DEFAULTS.certTtl);
  const certMaxTtlMs = duration(ENV.certMaxTtl, DEFAULTS.certMaxTtl);
  if (certDefaultTtlMs < 60_000) throw bad(ENV.certTtl, 'must be at least 1m');
  if (certMaxTtlMs < certDefaultTtlMs) throw bad(ENV.certMaxTtl, `must be at least ${ENV.certTtl}`);
  const servingCertTtlMs = duration(ENV.servingCertTtl, DEFAULTS.servingCertTtl);
  if (servingCertTtlMs < 60_000) throw bad(ENV.servingCertTtl, 'must be at least 1m');

  const service = dnsLabel(ENV.serviceName, DEFAULTS.serviceName);
  const clusterDomain = str(ENV.clusterDomain) ?? DEFAULTS.clusterDomain;
  if (!validateTrustDomain(clusterDomain).ok) throw bad(ENV.clusterDomain, `must be a DNS domain, got ${JSON.stringify(clusterDomain)}`);
  // The name agents dial (their own default is the same), so the serving certificate carries it.
  const controllerAddress = str(ENV.controllerAddress) ?? `${service}.${namespace}.svc:${PORTS.grpc}`;
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(controllerAddress)) throw bad(ENV.controllerAddress, `must be host:port, got ${JSON.stringify(controllerAddress)}`);
  const waypointImage = str(ENV.waypointImage) ?? DEFAULTS.waypointImage;
  if (/\s/.test(waypointImage)) throw bad(ENV.waypointImage, `must be an image reference, got ${JSON.stringify(waypointImage)}`);
  const podName = str(ENV.podName) ?? hostname();
  let leaderElection: LeaderElectionConfig | undefined;
  if (bool(ENV.leaderElection, false)) {
    const leaseName = str(ENV.leaseName) ?? DEFAULTS.leaseName;
    if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(leaseName)) throw bad(ENV.leaseName, `must be a DNS subdomain (lower case, digits, '-', '.'), got ${JSON.stringify(leaseName)}`);
    const timing: ElectionTiming = {
      leaseDurationMs: duration(ENV.leaseDuration, DEFAULTS.leaseDuration),
      renewDeadlineMs: duration(ENV.leaseRenewDeadline, DEFAULTS.leaseRenewDeadline),
      retryPeriodMs: duration(ENV.leaseRetryPeriod, DEFAULTS.leaseRetryPeriod),
    };
    const problem = timingProblem(timing);
    if (problem) throw bad(`${ENV.leaseDuration}, ${ENV.leaseRenewDeadline} and ${ENV.leaseRetryPeriod}`, `do not fit: ${problem}`);
    leaderElection = Object.freeze({ namespace, leaseName, identity: podName, ...timing });
  }

  const dashboardScrapeIntervalMs = duration(ENV.dashboardScrapeInterval, DEFAULTS.dashboardScrapeInterval);
  // Rates need two scrapes inside the shortest window the graph offers (10 s).
  if (dashboardScrapeIntervalMs !== 0 && (dashboardScrapeIntervalMs < 1000 || dashboardScrapeIntervalMs > 5000)) throw bad(ENV.dashboardScrapeInterval, 'must be 0s (off) or between 1s and 5s');
  const serving = Object.freeze({
    spiffeId: formatSpiffeId({ trustDomain: td, namespace, serviceAccount: dnsLabel(ENV.serviceAccount, DEFAULTS.serviceAccount) }),
    dnsNames: Object.freeze([`${service}.${namespace}.svc`, `${service}.${namespace}.svc.${clusterDomain}`, `${service}.${namespace}`]),
    ttlMs: servingCertTtlMs,
  });

  return Object.freeze({
    kubeServer: str(ENV.kubeServer),
    kubeToken: str(ENV.kubeToken),
    namespace,
    rootNamespace: str(ENV.rootNamespace) ?? namespace,
    trustDomain: td,
    grpcHost: host(ENV.grpcHost, '0.0.0.0'),
    grpcPort: port(ENV.grpcPort, PORTS.grpc),
    insecureControlPlane: bool(ENV.insecureControlPlane, false),
    serving,
    rootCaConfigMap: dnsLabel(ENV.rootCaConfigMap, ROOT_CA_CONFIGMAP),
    deployment: str(ENV.deployment) === undefined ? undefined : dnsLabel(ENV.deployment, ''),
    adminHost: host(ENV.adminHost, '0.0.0.0'),
    adminPort: port(ENV.adminPort, PORTS.admin),
    ca: Object.freeze(ca),
    certDefaultTtlMs,
    certMaxTtlMs,
    agentAuth: Object.freeze(agentAuth),
    tokenAudiences: Object.freeze(tokenAudiences),
    pushDebounceMs: duration(ENV.pushDebounce, DEFAULTS.pushDebounce),
    pushDebounceMaxMs: duration(ENV.pushDebounceMax, DEFAULTS.pushDebounceMax),
    writeStatus: bool(ENV.writeStatus, true),
    podName,
    leaderElection,
    controllerAddress,
    waypointImage,
    waypointTracing: Object.freeze(tracingConfig(env)),
    waypointResources: waypointResources(str(ENV.waypointResources)),
    dashboardScrapeIntervalMs,
  });
}

/** What every Waypoint's Deployment gets from this configuration (controller/waypoints/objects.ts). */
export function waypointTemplate(cfg: Readonly<ControllerConfig>): WaypointTemplate {
  return {
    image: cfg.waypointImage,
    controllerAddress: cfg.controllerAddress,
    controllerIdentity: cfg.serving.spiffeId,
    trustDomain: cfg.trustDomain,
    tokenAudience: cfg.tokenAudiences[0]!,
    rootCaConfigMap: cfg.rootCaConfigMap,
    resources: cfg.waypointResources,
    tracing: cfg.waypointTracing,
  };
}

/** A quantity as Kubernetes writes one (`100m`, `128Mi`, `1.5`, `2`). */
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$/;

/** `{"requests": {...}, "limits": {...}}`, as helm's toJson writes the chart's `waypoint.resources`; numbers become strings. */
function waypointResources(json: string | undefined): WaypointResources {
  if (json === undefined) return DEFAULTS.waypointResources;
  const why = 'must be a JSON object like {"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"memory":"1Gi"}}';
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw bad(ENV.waypointResources, `${why} (${(err as Error).message})`);
  }
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMap(parsed)) throw bad(ENV.waypointResources, `${why}, got ${json}`);
  const out: { requests?: Record<string, string>; limits?: Record<string, string> } = {};
  for (const [part, amounts] of Object.entries(parsed)) {
    if (part !== 'requests' && part !== 'limits') throw bad(ENV.waypointResources, `${why}: ${JSON.stringify(part)} is neither requests nor limits`);
    if (!isMap(amounts)) throw bad(ENV.waypointResources, `${why}: ${part} is not an object`);
    const quantities: Record<string, string> = {};
    for (const [resource, q] of Object.entries(amounts)) {
      const text = typeof q === 'number' ? String(q) : q;
      if (typeof text !== 'string' || !QUANTITY.test(text)) throw bad(ENV.waypointResources, `${part}.${resource} must be a quantity like "100m" or "128Mi", got ${JSON.stringify(q)}`);
      quantities[resource] = text;
    }
    if (Object.keys(quantities).length > 0) out[part] = Object.freeze(quantities);
  }
  return Object.freeze(out);
}
