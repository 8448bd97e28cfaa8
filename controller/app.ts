import * as grpc from '@grpc/grpc-js';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crdSchemas } from '../lib/crds/index.js';
import { summarizeRoots, type MeshCa, type TrustBundle } from '../lib/identity/index.js';
import { kubeConfig } from '../lib/k8s/client.js';
import { logger } from '../lib/log.js';
import { warnInsecureControlPlane } from '../lib/xds/credentials.js';
import type { Timers } from '../lib/xds/timers.js';
import { RESOURCE_TYPES } from '../lib/xds/types.js';
import { startAdminServer } from '../lib/admin.js';
import { ControllerMetrics } from './admin/index.js';
import { EitherAuthenticator, GuardedAuthenticator, StaticTokenAuthenticator, TokenReviewAuthenticator, kubeTokenReviewer, type Authenticator, type TokenReviewer } from './auth/index.js';
import { Dashboard, apiServerTarget, type ProxyStatus } from './dashboard/index.js';
import { EventWriter, kubeEventSink, type EventSink } from './events/index.js';
import { BundlePublisher, CaService, configMapBundleSink, DirectoryCaStore, SecretCaStore, ServingCertificate, loadOrCreateCa, type BundleSink, type CaStore } from './ca/index.js';
import { waypointTemplate, type ControllerConfig } from './config.js';
import { ALWAYS_LEADER, LeaderElector, kubeLeaseLock, type Leadership } from './leader/index.js';
import { MeshModel, StatusReconciler, kubeStatusPatcher, startModelSources, type StatusPatcher } from './model/index.js';
import { TrustBundleCopies, WaypointReconciler, kubeBundleConfigMaps, kubeOwnedObjects, type OwnedObjects } from './waypoints/index.js';
import { XdsServer } from './xds/index.js';

/** Seams for tests: everything else comes from the config. */
export interface ControllerOverrides {
  kc?: KubeConfig;
  tokenReviewer?: TokenReviewer;
  statusPatcher?: StatusPatcher;
  /** The objects Waypoints own (default: through the Kubernetes API). */
  waypointObjects?: OwnedObjects;
  /** Where Events are written (default: events.k8s.io/v1 through the Kubernetes API). */
  eventSink?: EventSink;
  timers?: Timers;
  now?: () => number;
  /** Where the trust bundle is published (default: the ConfigMap of the config). */
  bundleSink?: BundleSink;
  /** Tests rotate the serving certificate within seconds; the config's minimum is a minute. */
  servingCertTtlMs?: number;
}

export interface RunningController {
  readonly grpcPort: number;
  readonly adminPort: number;
  readonly model: MeshModel;
  readonly xds: XdsServer;
  readonly ca: MeshCa;
  /** The roots nodes are to trust (published to the root CA ConfigMap). */
  readonly bundle: TrustBundle;
  /** The certificate on 15010; undefined with the insecure development flag. */
  readonly serving: ServingCertificate | undefined;
  readonly metrics: ControllerMetrics;
  /** Whether this replica may write now; the elector when replicas elect one. */
  readonly leadership: Leadership;
  readonly election: LeaderElector | undefined;
  readonly dashboard: Dashboard;
  readonly status: StatusReconciler | undefined;
  /** Runs the Waypoints' Deployments and the trust bundle beside them; undefined where status is never written. */
  readonly waypoints: WaypointReconciler | undefined;
  /** Writes the Events both record, while this replica leads; undefined where status is never written. */
  readonly events: EventWriter | undefined;
  /** Resolves once the model has synced and agents are being served. */
  readonly synced: Promise<void>;
  /**
   * Stops writing, waits for the write in flight, then releases the Lease so
   * another replica takes over at once; `releaseLease: false` plays a crash (tests).
   */
  stop(opts?: { releaseLease?: boolean }): Promise<void>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Wires the controller's subsystems together; each owns its own state. */
export async function startController(cfg: Readonly<ControllerConfig>, over: ControllerOverrides = {}): Promise<RunningController> {
  const log = logger('controller');
  // The custom resources are validated with the chart's CRD files: an install without them
  // fails here, once, rather than rejecting every object.
  crdSchemas();
  const kc = over.kc ?? kubeConfig({ server: cfg.kubeServer, token: cfg.kubeToken });

  const model = new MeshModel({ trustDomain: cfg.trustDomain, rootNamespace: cfg.rootNamespace, log: logger('controller', 'model') });

  // Which replica writes. Every replica serves the config stream and the CA: that is read-only
  // work, and CSRs signed with the CA key they all share. Only the one that leads writes status
  // and runs Waypoints (through their reconcile loops, gated on `leadership`).
  const le = cfg.leaderElection;
  const election =
    cfg.writeStatus && le
      ? new LeaderElector({
          // A request may take at most half the renew deadline, leaving room for a retry within it.
          lock: kubeLeaseLock({ kc, namespace: le.namespace, name: le.leaseName, requestTimeoutMs: le.renewDeadlineMs / 2 }),
          identity: le.identity,
          leaseDurationMs: le.leaseDurationMs,
          renewDeadlineMs: le.renewDeadlineMs,
          retryPeriodMs: le.retryPeriodMs,
          log: logger('controller', 'leader'),
        })
      : undefined;
  const leadership: Leadership = election ?? ALWAYS_LEADER;

  const metrics = new ControllerMetrics(
    {
      resources: () => Object.fromEntries(RESOURCE_TYPES.map((t) => [t, model.resources(t).size])),
      objects: () => model.counts(),
    },
    () => cfg.writeStatus && leadership.isLeader,
  );

  const caStore: CaStore = cfg.ca.kind === 'directory' ? new DirectoryCaStore(cfg.ca.dir) : new SecretCaStore(kc, cfg.ca.namespace, cfg.ca.name);
  const caLog = logger('controller', 'ca');
  const { ca, bundle } = await loadOrCreateCa(caStore, { trustDomain: cfg.trustDomain, log: caLog, ...(over.now ? { now: over.now } : {}) });
  const publisher = new BundlePublisher({ sink: over.bundleSink ?? configMapBundleSink(kc, cfg.namespace, cfg.rootCaConfigMap, cfg.deployment), pem: bundle.rootPem, log: caLog });

  const sources = startModelSources({ kc, model, log: logger('controller', 'kube') });

  // Waypoint proxies always authenticate by their pod-bound service account token; node
  // agents by theirs in a cluster, by a static token in the lab.
  const tokenReview = new TokenReviewAuthenticator({
    reviewer: over.tokenReviewer ?? kubeTokenReviewer(kc),
    pod: (ns, name) => model.pod(ns, name),
    serviceAccounts: cfg.agentAuth.kind === 'tokenreview' ? cfg.agentAuth.serviceAccounts : [],
    waypoints: (ns, name) => model.hasWaypoint(ns, name),
    audiences: cfg.tokenAudiences,
    ...(over.now ? { now: over.now } : {}),
  });
  const authenticator: Authenticator = new GuardedAuthenticator(
    cfg.agentAuth.kind === 'static' ? new EitherAuthenticator([new StaticTokenAuthenticator(cfg.agentAuth.tokens), tokenReview]) : tokenReview,
    over.now ? { now: over.now } : {},
  );

  const xds = new XdsServer({
    model,
    authenticator,
    metrics,
    log: logger('controller', 'xds'),
    debounceMs: cfg.pushDebounceMs,
    debounceMaxMs: cfg.pushDebounceMaxMs,
    ...(over.timers ? { timers: over.timers } : {}),
    ...(over.now ? { now: over.now } : {}),
  });
  const caService = new CaService({
    ca,
    bundlePem: bundle.rootPem,
    authenticator,
    hasServiceAccountOnNode: (node, ns, sa) => model.hasServiceAccountOnNode(node, ns, sa),
    ready: () => sources.isSynced(),
    metrics,
    log: caLog,
    defaultTtlMs: cfg.certDefaultTtlMs,
    maxTtlMs: cfg.certMaxTtlMs,
    ...(over.now ? { now: over.now } : {}),
  });

  const grpcServer = new grpc.Server({ 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000 });
  xds.register(grpcServer);
  caService.register(grpcServer);
  // 15010 serves TLS with a certificate from the mesh CA, renewed in place; plaintext only
  // behind the development flag, which says so loudly for as long as it runs.
  const serving = cfg.insecureControlPlane
    ? undefined
    : new ServingCertificate({
        ca,
        spiffeId: cfg.serving.spiffeId,
        dnsNames: cfg.serving.dnsNames,
        ttlMs: over.servingCertTtlMs ?? cfg.serving.ttlMs,
        log: caLog,
        metrics,
        ...(over.now ? { now: over.now } : {}),
      });
  const stopInsecureWarnings = serving ? undefined : warnInsecureControlPlane(log, 'the controller');
  // grpc-js names the first argument the CA provider but uses it for the server's own
  // certificate (1.14); no client certificate is asked for (agents send tokens).
  const credentials = serving ? grpc.experimental.createCertificateProviderServerCredentials(serving, null, false) : grpc.ServerCredentials.createInsecure();
  const hostPort = cfg.grpcHost.includes(':') ? `[${cfg.grpcHost}]:${cfg.grpcPort}` : `${cfg.grpcHost}:${cfg.grpcPort}`;
  let grpcPort: number;
  try {
    grpcPort = await new Promise<number>((resolve, reject) => grpcServer.bindAsync(hostPort, credentials, (err, port) => (err ? reject(err) : resolve(port))));
  } catch (err) {
    serving?.close();
    stopInsecureWarnings?.();
    publisher.stop();
    await sources.stop();
    throw err;
  }

  // Events are written by the same replica as status: the one that leads.
  const events = cfg.writeStatus
    ? new EventWriter({
        sink: over.eventSink ?? kubeEventSink(kc),
        reportingInstance: cfg.podName,
        log: logger('controller', 'events'),
        leadership,
        counter: metrics.events,
        ...(over.now ? { now: over.now } : {}),
        ...(over.timers ? { timers: over.timers } : {}),
      })
    : undefined;
  const status = cfg.writeStatus
    ? new StatusReconciler({
        model,
        patcher: over.statusPatcher ?? kubeStatusPatcher(kc),
        log: logger('controller', 'status'),
        events,
        leadership,
        ...(over.timers ? { timers: over.timers } : {}),
      })
    : undefined;
  // The same writer rule as status: both run on every replica that may write, and write while it leads.
  const waypoints = cfg.writeStatus
    ? new WaypointReconciler({
        view: model,
        objects: over.waypointObjects ?? kubeOwnedObjects({ kc, log: logger('controller', 'waypoints') }),
        patcher: over.statusPatcher ?? kubeStatusPatcher(kc),
        template: waypointTemplate(cfg),
        // The proxies mount the bundle from their own namespace.
        bundles: new TrustBundleCopies({
          configMaps: kubeBundleConfigMaps({ kc, name: cfg.rootCaConfigMap, log: logger('controller', 'waypoints') }),
          name: cfg.rootCaConfigMap,
          ownNamespace: cfg.namespace,
          pem: bundle.rootPem,
          log: logger('controller', 'waypoints'),
        }),
        log: logger('controller', 'waypoints'),
        events,
        leadership,
        ...(over.timers ? { timers: over.timers } : {}),
      })
    : undefined;

  let stopped = false;
  const synced = sources.synced.then(() => {
    if (stopped) return;
    xds.setReady();
    // Statuses are written from a complete view only (a Service not listed yet is not "missing its waypoint").
    status?.start();
    // Deletes what no Waypoint owns, so only from a complete view of the Waypoints.
    waypoints?.start().catch((err: unknown) => log.error({ err: String(err) }, 'bug: starting the waypoint reconciler failed'));
    // Runs for the Lease only once synced: a replica that cannot see the cluster never keeps
    // one that can from writing.
    election?.start();
  });

  const debugCa = () => ({
    trustBundle: summarizeRoots(bundle.roots),
    published: publisher.isPublished ? `${cfg.namespace}/${cfg.rootCaConfigMap}` : false,
    serving: serving
      ? (({ serial, notAfter, issuedAt, renewAt }) => ({ identity: cfg.serving.spiffeId, dnsNames: cfg.serving.dnsNames, serial, notAfter: iso(notAfter), issuedAt: iso(issuedAt), renewAt: iso(renewAt) }))(serving.current())
      : 'PLAINTEXT (development flag)',
  });
  // Reads what the controller holds; its one write is sent as the operator, never with `kc`'s credentials.
  const dashboard = new Dashboard({
    model,
    proxies: () => xds.agents() as ProxyStatus[],
    ca: debugCa,
    apiServer: apiServerTarget(kc),
    scrapeIntervalMs: cfg.dashboardScrapeIntervalMs,
    log: logger('controller', 'dashboard'),
    ...(over.timers ? { timers: over.timers } : {}),
    ...(over.now ? { now: over.now } : {}),
  });
  if (cfg.dashboardScrapeIntervalMs > 0) dashboard.start();

  const admin: HttpServer = await startAdminServer({
    title: 'Ambit controller',
    listenOn: { host: cfg.adminHost, port: cfg.adminPort },
    registry: metrics.registry,
    // Leading is not readiness: a follower serves agents as well, and must stay behind the Service.
    notReady: () =>
      !sources.isSynced()
        ? 'informers have not synced with the API server'
        : !xds.isReady
          ? 'the config server is not serving yet'
          : !publisher.isPublished
            ? `the trust bundle is not published yet (${cfg.rootCaConfigMap} in ${cfg.namespace}); node agents cannot start without it`
            : undefined,
    json: {
      '/debug/agents': () => xds.agents(),
      '/debug/model': () => model.debug(),
      '/debug/leader': () => (election ? { election: 'on', ...election.status() } : { election: 'off', leading: cfg.writeStatus }),
      '/debug/ca': debugCa,
    },
    mounts: { '/ui/': (req, res) => dashboard.handle(req, res) },
    log,
  });
  const adminPort = (admin.address() as AddressInfo).port;
  log.info(
    {
      grpc: `${cfg.grpcHost}:${grpcPort}`,
      admin: `${cfg.adminHost}:${adminPort}`,
      trustDomain: cfg.trustDomain,
      ca: caStore.describe,
      agentAuth: authenticator.describe,
      tls: serving ? { identity: cfg.serving.spiffeId, dnsNames: cfg.serving.dnsNames } : 'PLAINTEXT',
      writes: !cfg.writeStatus ? 'never' : le ? `while it holds Lease ${le.namespace}/${le.leaseName} as ${le.identity}` : 'always (no leader election)',
    },
    'controller started',
  );

  return {
    grpcPort,
    adminPort,
    model,
    xds,
    ca,
    bundle,
    serving,
    metrics,
    leadership,
    election,
    dashboard,
    status,
    waypoints,
    events,
    synced,
    stop: async (opts = {}) => {
      if (stopped) return;
      stopped = true;
      // No pass starts from here; the Lease is released only once the writes in flight are done,
      // so the next leader never writes beside this one. The trust bundle is not written again:
      // a replica stopping because its release is being uninstalled must not put it back.
      publisher.stop();
      status?.stop();
      waypoints?.stop();
      dashboard.stop();
      await Promise.all([status?.close(), waypoints?.close()]);
      // Still leading: what the last writes recorded is written (for up to 2 s) before the Lease goes.
      await events?.close();
      await election?.stop({ release: opts.releaseLease !== false });
      serving?.close();
      stopInsecureWarnings?.();
      xds.close();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          grpcServer.forceShutdown();
          resolve();
        }, 2000);
        force.unref();
        grpcServer.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      await new Promise<void>((r) => {
        admin.close(() => r());
        admin.closeAllConnections();
      });
      await sources.stop();
      log.info('controller stopped');
    },
  };
}
