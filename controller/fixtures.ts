/**
 * Helpers for the controller's tests and its benchmark (not exported from any
 * index): the lab API server on port 0, object builders, and waiting.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ObjectStore, startApiServer, type ApiServer } from '../lab/apiserver/index.js';
import type { KubeObject } from '../lib/k8s/types.js';
import { computeEndpoints } from '../lab/workloads/endpoints.js';
import { staticTrust, type TrustBundle } from '../lib/identity/index.js';
import { RESOURCE_TYPES, connectMeshConfig, controllerChannel, resourceName, type ControllerChannel, type MeshConfigConnection, type ResourceType } from '../lib/xds/index.js';
import { logger } from '../lib/log.js';
import { startController, type ControllerOverrides, type RunningController } from './app.js';
import { loadControllerConfig, type ControllerConfig } from './config.js';
import { MeshModel } from './model/model.js';
import { startModelSources } from './model/sources.js';
import { StatusReconciler, kubeStatusPatcher } from './model/status.js';

export const LAB_TOKEN = 'lab-api-token';

export interface Lab {
  store: ObjectStore;
  api: ApiServer;
  kc: KubeConfig;
  close(): Promise<void>;
}

/** `now`: the store's clock for creationTimestamp; `historySize`: how many events a watch may resume from (small: 410 Gone soon). */
export async function startLab(opts: { now?: () => Date; historySize?: number } = {}): Promise<Lab> {
  const store = new ObjectStore({ ...(opts.now ? { now: opts.now } : {}), ...(opts.historySize ? { historySize: opts.historySize } : {}) });
  const api = await startApiServer({ store, host: '127.0.0.1', port: 0, token: LAB_TOKEN });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'lab', server: api.url, skipTLSVerify: true }],
    users: [{ name: 'lab', token: LAB_TOKEN }],
    contexts: [{ name: 'lab', cluster: 'lab', user: 'lab' }],
    currentContext: 'lab',
  });
  return { store, api, kc, close: () => api.close() };
}

export interface ModelHarness {
  model: MeshModel;
  status: StatusReconciler;
  stop(): Promise<void>;
}

/** The controller's model fed by informers on `lab`, writing status back, once the informers have synced. */
export async function startModelHarness(lab: Lab): Promise<ModelHarness> {
  const model = new MeshModel({ trustDomain: 'cluster.local', rootNamespace: 'ambit-system', log: logger('test', 'model') });
  const sources = startModelSources({ kc: lab.kc, model, log: logger('test', 'kube') });
  const status = new StatusReconciler({ model, patcher: kubeStatusPatcher(lab.kc), log: logger('test', 'status'), debounceMs: 5 });
  await sources.synced;
  status.start();
  return {
    model,
    status,
    stop: async () => {
      status.stop();
      await sources.stop();
    },
  };
}

export async function tempDir(prefix = 'ambit-ctl-'): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A controller against `lab` (whose namespace is created if missing), on ports 0, with a short debounce; `env` adds or overrides settings. */
export async function startTestController(lab: Lab, caDir: string, env: Record<string, string> = {}, over: ControllerOverrides = {}): Promise<RunningController> {
  if (!lab.store.tryGet('namespaces', undefined, CONTROLLER_NAMESPACE)) lab.store.create('namespaces', namespace(CONTROLLER_NAMESPACE));
  const cfg: Readonly<ControllerConfig> = loadControllerConfig({
    AMBIT_KUBE_SERVER: lab.api.url,
    AMBIT_KUBE_TOKEN: LAB_TOKEN,
    AMBIT_CA_DIR: caDir,
    AMBIT_AGENT_TOKENS: JSON.stringify({ 'node-a': 'token-a', 'node-b': 'token-b' }),
    AMBIT_GRPC_HOST: '127.0.0.1',
    AMBIT_GRPC_PORT: '0',
    AMBIT_ADMIN_HOST: '127.0.0.1',
    AMBIT_ADMIN_PORT: '0',
    AMBIT_PUSH_DEBOUNCE: '10ms',
    AMBIT_PUSH_DEBOUNCE_MAX: '100ms',
    ...env,
  });
  return startController(cfg, { kc: lab.kc, ...over });
}

export const CONTROLLER_NAMESPACE = 'ambit-system';
/** What agents verify the controller as, with the default config. */
export const CONTROLLER_SERVER_NAME = 'ambit-controller.ambit-system.svc';
export const CONTROLLER_IDENTITY = 'spiffe://cluster.local/ns/ambit-system/sa/ambit-controller';

/** The channel a node agent opens to the controller: TLS verified against `bundle` (read out of band). */
export function agentChannel(bundle: TrustBundle): ControllerChannel {
  return controllerChannel({ kind: 'tls', trust: staticTrust(bundle), serverName: CONTROLLER_SERVER_NAME, identity: CONTROLLER_IDENTITY });
}

/** The trust bundle PEM in the root CA ConfigMap the controller published, if any. */
export function publishedBundle(store: ObjectStore): string | undefined {
  const cm = store.tryGet('configmaps', CONTROLLER_NAMESPACE, 'ambit-root-ca') as { data?: Record<string, string> } | undefined;
  return cm?.data?.['root-cert.pem'];
}

/** How an agent reaches `ctl`: its port, verified against the bundle it publishes. */
export function controllerTarget(ctl: RunningController): AgentTarget {
  return { address: `127.0.0.1:${ctl.grpcPort}`, channel: agentChannel(ctl.bundle) };
}

export interface AgentTarget {
  address: string;
  channel: ControllerChannel;
}

export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---- object builders ----

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export interface PodSpec {
  namespace?: string;
  node: string;
  ip: string;
  serviceAccount?: string;
  labels?: Record<string, string>;
  ports?: { name?: string; containerPort: number }[];
}

/** Creates a running, ready pod (status written through the status subresource, as a kubelet would). */
export function createPod(store: ObjectStore, name: string, p: PodSpec): KubeObject {
  const ns = p.namespace ?? 'default';
  store.create('pods', {
    metadata: { name, namespace: ns, labels: p.labels ?? {} },
    spec: { nodeName: p.node, serviceAccountName: p.serviceAccount ?? 'default', containers: [{ name: 'app', image: 'x', ports: p.ports ?? [] }] },
  });
  return store.patch('pods', ns, name, { status: { phase: 'Running', podIP: p.ip, conditions: [{ type: 'Ready', status: 'True' }] } }, 'merge', { subresource: 'status' });
}

export function createService(store: ObjectStore, name: string, s: { namespace?: string; clusterIP: string; selector: Record<string, string>; ports: { name?: string; port: number; targetPort?: number | string }[]; labels?: Record<string, string> }): KubeObject {
  return store.create('services', {
    metadata: { name, namespace: s.namespace ?? 'default', labels: s.labels ?? {} },
    spec: { clusterIP: s.clusterIP, selector: s.selector, ports: s.ports.map((p) => ({ protocol: 'TCP', ...p })) },
  });
}

/** Writes the EndpointSlices the lab's endpoints controller would for `service` (replacing older ones). */
export function syncEndpointSlices(store: ObjectStore, namespaceName: string, service: string): void {
  const svc = store.get('services', namespaceName, service);
  const pods = store.list('pods', { namespace: namespaceName }).items;
  const want = computeEndpoints(svc, pods).endpointSlices;
  const existing = store.list('endpointslices', { namespace: namespaceName, labelSelector: `kubernetes.io/service-name=${service}` }).items;
  for (const e of existing) if (!want.some((w) => w.metadata.name === e.metadata.name)) store.delete('endpointslices', namespaceName, e.metadata.name);
  for (const w of want) store.apply(w);
}

export function authorizationPolicy(name: string, spec: unknown, ns = 'default'): KubeObject {
  return { apiVersion: 'ambit.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name, namespace: ns }, spec };
}

export function peerAuthentication(name: string, spec: unknown, ns = 'default'): KubeObject {
  return { apiVersion: 'ambit.dev/v1alpha1', kind: 'PeerAuthentication', metadata: { name, namespace: ns }, spec };
}

export function trafficPolicy(name: string, spec: unknown, ns = 'default'): KubeObject {
  return { apiVersion: 'ambit.dev/v1alpha1', kind: 'TrafficPolicy', metadata: { name, namespace: ns }, spec };
}

export function conditions(store: ObjectStore, plural: string, ns: string, name: string): { type: string; status: string; reason: string; message: string; observedGeneration?: number }[] {
  const obj = store.tryGet(plural, ns, name);
  const c = (obj?.status as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(c) ? c : [];
}

// ---- a recording agent ----

export interface RecordedUpdate {
  type: ResourceType;
  upserts: string[];
  removals: string[];
}

export interface TestAgent {
  conn: MeshConfigConnection;
  /** The agent's applied state: type -> name -> resource. */
  state: Record<ResourceType, Map<string, unknown>>;
  /** Every update handed to onUpdate, applied or not. */
  updates: RecordedUpdate[];
  /** When set, returns an error string to reject (NACK) an update. */
  reject: ((u: RecordedUpdate) => string | undefined) | undefined;
  stop(): Promise<void>;
}

export function startTestAgent(target: AgentTarget, node: string, token: string | undefined, opts: { backoffMs?: number } = {}): TestAgent {
  const state = Object.fromEntries(RESOURCE_TYPES.map((t) => [t, new Map<string, unknown>()])) as TestAgent['state'];
  const agent: TestAgent = {
    state,
    updates: [],
    reject: undefined,
    conn: undefined as unknown as MeshConfigConnection,
    stop: () => agent.conn.stop(),
  };
  const fixed = opts.backoffMs ?? 20;
  agent.conn = connectMeshConfig({
    ...target,
    nodeName: node,
    ...(token !== undefined ? { token } : {}),
    agentVersion: 'test',
    backoff: { next: () => fixed, reset: () => undefined },
    onUpdate: (type, upserts, removals) => {
      const names = upserts.map((r) => resourceName(type, r as never));
      const u: RecordedUpdate = { type, upserts: names, removals };
      agent.updates.push(u);
      const why = agent.reject?.(u);
      if (why) return { ok: false, error: why };
      const m = state[type];
      for (const n of removals) m.delete(n);
      upserts.forEach((r, i) => m.set(names[i]!, r));
      return { ok: true };
    },
  });
  return agent;
}
