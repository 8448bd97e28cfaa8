import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AmbitError } from '../../lib/errors.js';
import { garbageCollectorOn } from '../garbage-collector.js';
import type { KubeObject } from '../../lib/k8s/types.js';
import { ROOT_CA_CONFIGMAP, ROOT_CA_KEY } from '../../lib/identity/trust-file.js';
import { logger } from '../../lib/log.js';
import { isMeshed } from '../../lib/mesh/membership.js';
import { startApiServer, ObjectStore, TokenRegistry } from '../apiserver/index.js';
import type { Kubelet } from '../chart/kubelet.js';
import { apiServingCert, API_TLS_PORT, auditWriter, chartImages, labKubelet } from '../chart/mesh.js';
import { releaseObjects, type Release } from '../chart/release.js';
import { LAB_RELEASE } from '../chart/render.js';
import { applyRelease, runHooks, uninstallRelease, waitForRollout, type HookRun, type ObjectResult, type ReleaseHost, type UninstallResult } from './release.js';
import { Component, readyFrom, type ComponentSpec } from '../components.js';
import { PORTS as CONTROLLER_PORTS } from '../../controller/config.js';
import { ensureBpffs, ensureCgroup2, makeCgroup } from '../host/cgroup.js';
import { applyRules, type ServiceRule } from '../host/kubeproxy.js';
import { Ipam, nodeFabricIp, nodePodCidr, nodePodGateway } from '../ipam.js';
import type { LabPaths } from '../paths.js';
import { renderHosts, type ContainerSpec } from '../runtime.js';
import { API_PORT, createFabric, createNode, FABRIC_GATEWAY, type NodeNet } from '../topology.js';
import { PodManager } from './pods.js';
import { WAYPOINT_POD_LABEL } from '../../controller/model/workloads.js';
import { isPodReady } from '../workloads.js';
import { reconcileWorkloads, type WorkloadView } from './workloads.js';

const log = logger('lab', 'supervisor');

/** Where the mesh's own components live, and mesh-wide policies (the root namespace). */
const MESH_NAMESPACE = 'ambit-system';
/** How long `lab up --chart` gives an install hook (helm's --timeout default). */
const CHART_TIMEOUT_MS = 5 * 60_000;
/** Longest a waypoint's rolling restart may take. */
const READY_TIMEOUT_MS = 60_000;

export type LabPhase = 'booting' | 'ready' | 'failed' | 'stopping';

export interface LabStatus {
  lab: string;
  phase: LabPhase;
  error?: string;
  api: { url: string; kubeconfig: string };
  nodes: { name: string; ip: string; netns: string; podCIDR: string }[];
  pods: {
    namespace: string;
    name: string;
    ip: string | undefined;
    node: string | undefined;
    netns: string | undefined;
    meshed: boolean;
    phase: string;
    restarts: number;
  }[];
  services: { namespace: string; name: string; clusterIP: string | undefined; ports: unknown[] }[];
  components: ReturnType<Component['status']>[];
}

/**
 * The lab cluster: owns the object store (served as a Kubernetes API), the
 * topology, and plays the control loops a cluster would run (scheduler,
 * Deployment and endpoints controllers, kubelet, kube-proxy). Every change is
 * applied by one level-triggered loop, so events can arrive in any order.
 */
export class Lab {
  readonly store = new ObjectStore({ garbageCollector: garbageCollectorOn() });
  /** One registry for every listener: a token minted through one is valid on all. */
  private readonly tokens = new TokenRegistry({ store: this.store });
  private readonly ipam = new Ipam();
  private readonly token = randomBytes(24).toString('hex');
  /** Plays the kubelet for the Ambit image's pods: the chart's (`--chart`), and the Waypoints' in either mode. */
  private kubelet: Kubelet | undefined;
  private nodes: NodeNet[] = [];
  private pods!: PodManager;
  private readonly components: Component[] = [];
  private closeApi: (() => Promise<void>) | undefined;
  private phase: LabPhase = 'booting';
  private error: string | undefined;
  private cgroup2 = '';
  private dirty = false;
  /** While set, store changes mark the loop dirty without starting it (see atomically). */
  private holding = false;
  private loop: Promise<void> | undefined;
  private appliedRules = new Map<string, string>();
  /** The trust bundle last written to the nodes' root-ca files. */
  private projectedRootCa: string | undefined;
  /** Booted from a chart: the API server's TLS listener and the kubelet for the Ambit image run. */
  private readonly fromChart: boolean;
  /** The installed release (`lab up --chart`, `lab upgrade`); undefined once `lab uninstall` removed it. */
  private release: Release | undefined;
  /** The images the kubelet runs as the Ambit image; an upgrade may add some. */
  private readonly images = new Set<string>();
  /** The install, upgrade or uninstall under way: one at a time, as helm locks a release. */
  private releaseOp: string | undefined;

  constructor(
    private readonly paths: LabPaths,
    private readonly nodeCount: number,
    /** The rendered Helm chart (`lab up --chart`): the mesh runs from its objects instead of the lab's own processes. */
    release?: Release,
  ) {
    this.release = release;
    this.fromChart = release !== undefined;
  }

  get apiUrl(): string {
    return `http://${FABRIC_GATEWAY}:${API_PORT}`;
  }

  async boot(initial: KubeObject[]): Promise<void> {
    try {
      this.cgroup2 = await ensureCgroup2();
      await ensureBpffs();
      const own = this.paths.systemCgroup(this.cgroup2, 'supervisor');
      makeCgroup(own);
      writeFileSync(join(own, 'cgroup.procs'), String(process.pid));
      this.pods = new PodManager(
        this.paths,
        this.cgroup2,
        () => this.kick(),
        (pod, ip, node, dir) => this.meshImageContainers(pod, ip, node, dir),
        (uid) => this.kubelet?.forget(uid),
      );

      await createFabric(this.paths);
      this.nodes = Array.from({ length: this.nodeCount }, (_, i) => ({
        name: `node${i + 1}`,
        netns: this.paths.nodeNetns(`node${i + 1}`),
        ip: nodeFabricIp(i),
        podCIDR: nodePodCidr(i),
        podGateway: nodePodGateway(i),
      }));
      for (const node of this.nodes) {
        await createNode(this.paths, node, this.nodes);
        makeCgroup(this.paths.nodeCgroup(this.cgroup2, node.name));
        // As the agent's root hostPath sees it on a node: an empty bpffs folder of its own.
        mkdirSync(this.paths.bpfPinDir(node.name), { recursive: true });
        this.store.create('nodes', {
          metadata: { name: node.name, labels: { 'kubernetes.io/hostname': node.name, 'kubernetes.io/os': 'linux' } },
          spec: { podCIDR: node.podCIDR, podCIDRs: [node.podCIDR] },
        });
        // As on a real cluster, create ignores status: the kubelet reports it.
        this.store.replaceStatus('nodes', {
          metadata: { name: node.name },
          status: {
            addresses: [
              { type: 'InternalIP', address: node.ip },
              { type: 'Hostname', address: node.name },
            ],
            conditions: [{ type: 'Ready', status: 'True', reason: 'LabNodeReady' }],
          },
        });
      }
      // The lab's own tooling holds the admin token; service accounts' tokens are authorized by
      // RBAC, and every decision on them is logged (the RBAC comparison test reads the log).
      const auth = { adminToken: this.token, audit: auditWriter(this.paths.auditLog) };
      const api = await startApiServer({ store: this.store, host: FABRIC_GATEWAY, port: API_PORT, tokens: this.tokens, auth });
      // kubectl will not send a bearer token over plain HTTP, so `lab kubectl`
      // gets a token-less listener on the fabric namespace's loopback, which
      // only root can reach (by entering the namespace).
      const local = await startApiServer({ store: this.store, host: '127.0.0.1', port: API_PORT, tokens: this.tokens });
      // In-cluster clients (the chart's controller, the Waypoints' proxies) speak only HTTPS,
      // verified against the ca.crt the kubelet mounts beside their token.
      const tls = apiServingCert(join(this.paths.stateDir, 'apiserver'), FABRIC_GATEWAY);
      const servers = [api, local, await startApiServer({ store: this.store, host: FABRIC_GATEWAY, port: API_TLS_PORT, tokens: this.tokens, auth, tls })];
      for (const image of chartImages(this.release ? releaseObjects(this.release) : [])) this.images.add(image);
      this.kubelet = labKubelet({ paths: this.paths, cgroup2: this.cgroup2, store: this.store, tokens: this.tokens, images: this.images, apiCaCert: tls.cert, apiHost: FABRIC_GATEWAY, nodeFlags: extraNodeFlags() });
      this.closeApi = async () => {
        await Promise.all(servers.map((s) => s.close()));
      };
      this.writeKubeconfig();
      this.store.subscribe(() => this.kick());
      this.store.create('namespaces', { metadata: { name: MESH_NAMESPACE } });
      if (this.release) await this.installChart(this.release);
      else await this.startMesh();
      await this.apply(initial);
      await this.settle(60_000);
      this.phase = 'ready';
      log.info({ nodes: this.nodes.length, pods: this.pods.all().length }, 'lab is ready');
    } catch (err) {
      this.phase = 'failed';
      this.error = err instanceof Error ? err.message : String(err);
      log.error({ err: this.error }, 'lab failed to boot');
      throw err;
    }
  }

  private writeKubeconfig(): void {
    const kubeconfig = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: this.paths.lab, cluster: { server: `http://127.0.0.1:${API_PORT}` } }],
      users: [{ name: 'lab-admin', user: {} }],
      contexts: [{ name: this.paths.lab, context: { cluster: this.paths.lab, user: 'lab-admin' } }],
      'current-context': this.paths.lab,
    };
    // For `ambit lab kubectl`, which runs kubectl inside the fabric namespace.
    writeFileSync(join(this.paths.stateDir, 'kubeconfig'), JSON.stringify(kubeconfig, null, 2), { mode: 0o600 });
    // The token the fabric listener checks, for what an operator pastes into the controller's
    // dashboard (15014 /ui/) to change routes as the lab's admin.
    writeFileSync(this.paths.adminTokenFile, `${this.token}\n`, { mode: 0o600 });
  }

  /**
   * The mesh's own processes: the controller in the fabric namespace, then one agent per
   * node once the controller has published the trust bundle the agents mount (as kubelet
   * holds a pod until its ConfigMap volume exists).
   */
  private async startMesh(): Promise<void> {
    const agentTokens = Object.fromEntries(this.nodes.map((n) => [n.name, randomBytes(24).toString('hex')]));
    const grpc = `${FABRIC_GATEWAY}:${CONTROLLER_PORTS.grpc}`;
    this.startComponent({
      kind: 'controller',
      name: 'controller',
      node: undefined,
      netns: this.paths.fabricNetns,
      entry: 'dist/controller/main.js',
      nodeFlags: extraNodeFlags(),
      admin: `${FABRIC_GATEWAY}:${CONTROLLER_PORTS.admin}`,
      env: {
        AMBIT_KUBE_SERVER: this.apiUrl,
        AMBIT_KUBE_TOKEN: this.token,
        AMBIT_CA_DIR: join(this.paths.stateDir, 'ca'),
        AMBIT_AGENT_TOKENS: JSON.stringify(agentTokens),
        AMBIT_GRPC_HOST: FABRIC_GATEWAY,
        AMBIT_ADMIN_HOST: FABRIC_GATEWAY,
        // No Service fronts this controller: the Waypoint Deployments it writes send their
        // proxies to its address, as the agents below are.
        AMBIT_CONTROLLER_ADDRESS: grpc,
        // One replica, electing as in a cluster, so the lab runs the election code: it takes the
        // Lease at once, and `lab restart controller` (SIGTERM, then the new process) hands it over
        // by the release. The name is the pod name a Deployment would give.
        AMBIT_LEADER_ELECTION: 'true',
        AMBIT_POD_NAME: 'ambit-controller-lab',
      },
    });
    await this.waitForRootCa(30_000);
    for (const node of this.nodes) {
      this.startComponent({
        kind: 'node-agent',
        name: `node-agent-${node.name}`,
        node: node.name,
        netns: node.netns,
        entry: 'dist/node-agent/main.js',
        nodeFlags: extraNodeFlags(),
        admin: `${node.ip}:15020`,
        env: {
          AMBIT_NODE_NAME: node.name,
          AMBIT_NODE_IP: node.ip,
          AMBIT_CONTROLLER_ADDRESS: grpc,
          AMBIT_CONTROLLER_TOKEN: agentTokens[node.name]!,
          AMBIT_ROOT_CA_FILE: this.paths.nodeRootCaFile(node.name),
          AMBIT_POD_CGROUP_ROOT: this.paths.nodeCgroup(this.cgroup2, node.name),
          AMBIT_BPF_PIN_DIR: this.paths.bpfPinDir(node.name),
          AMBIT_REDIRECT_IP: node.podGateway,
          AMBIT_ADMIN_HOST: node.ip,
        },
      });
    }
  }

  /**
   * `lab up --chart`: `helm install --wait` of the rendered release (release.ts): its
   * pre-install hooks, then the CRDs and the manifests created in helm's kind order (the Ambit
   * kinds are built into the lab's API server, so the CRD objects are stored for `kubectl get
   * crd`), its post-install hooks, and a wait until the controller Deployment and the agent
   * DaemonSet have ready pods, which the lab's Deployment and DaemonSet controllers make and
   * its kubelet runs from their pod templates.
   */
  private async installChart(release: Release): Promise<void> {
    const host = this.releaseHost();
    await runHooks(host, release.hooks, 'pre-install', CHART_TIMEOUT_MS);
    const objects = await applyRelease(host, undefined, release);
    await runHooks(host, release.hooks, 'post-install', CHART_TIMEOUT_MS);
    await waitForRollout(host, MESH_NAMESPACE, 90_000);
    log.info({ objects: objects.length }, 'mesh running from the chart');
  }

  /** What the release operations (release.ts) act through. */
  private releaseHost(): ReleaseHost {
    return {
      store: this.store,
      idle: () => this.idle(),
      podLog: (ns, name) => {
        const file = this.paths.podLog(ns, name);
        return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
      },
      livePodUids: () => new Set([...this.pods.all(), ...this.pods.terminating()].map((p) => p.uid)),
      log,
    };
  }

  /** Runs one release operation at a time (helm refuses a second while one is pending). */
  private async exclusively<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (this.phase !== 'ready') throw new AmbitError('AMBIT_ERR_LAB_STATE', `lab ${this.paths.lab} is ${this.phase}, not ready: ${what} waits for it`);
    if (this.releaseOp) throw new AmbitError('AMBIT_ERR_LAB_STATE', `another operation (${this.releaseOp}) is in progress on release ${LAB_RELEASE.name}`);
    this.releaseOp = what;
    try {
      return await op();
    } finally {
      this.releaseOp = undefined;
    }
  }

  /**
   * `lab upgrade`: `helm upgrade --wait` to a newly rendered release. pre-upgrade hooks; every
   * manifest created or patched (three-way, as helm), those the new release lacks deleted, the
   * CRDs left alone; post-upgrade hooks; then a wait until the lab's controllers have rolled
   * the Deployments and DaemonSets as their strategies say. The release is remembered (the
   * state folder's release file) for the next upgrade and the uninstall.
   */
  async upgrade(next: Release, timeoutMs: number): Promise<{ objects: ObjectResult[]; hooks: HookRun[]; seconds: number }> {
    return this.exclusively('upgrade', async () => {
      const previous = this.release;
      if (!previous) throw new AmbitError('AMBIT_ERR_LAB_STATE', `lab ${this.paths.lab} has no release ${LAB_RELEASE.name}: ${this.fromChart ? "'ambit lab uninstall' removed it" : "it was not booted with 'ambit lab up --chart DIR'"}`);
      const started = Date.now();
      for (const image of chartImages(releaseObjects(next))) this.images.add(image);
      const host = this.releaseHost();
      const hooks = await runHooks(host, next.hooks, 'pre-upgrade', timeoutMs);
      const objects = await applyRelease(host, previous, next);
      // From here the cluster holds the new release, whatever the rollout does.
      this.release = next;
      writeFileSync(this.paths.releaseFile, JSON.stringify(next));
      hooks.push(...(await runHooks(host, next.hooks, 'post-upgrade', timeoutMs)));
      await waitForRollout(host, MESH_NAMESPACE, timeoutMs);
      log.info({ objects: objects.filter((o) => o.result !== 'unchanged').length }, 'release upgraded');
      return { objects, hooks, seconds: (Date.now() - started) / 1000 };
    });
  }

  /**
   * `lab uninstall`: `helm uninstall --wait` of the release (release.ts): the pre-delete hooks
   * (the chart's Job, run as a pod through the lab's kubelet), the manifests deleted, their
   * pods waited for. A failed hook leaves everything in place and says why, with its logs.
   */
  async uninstall(opts: { hooks: boolean; timeoutMs: number }): Promise<UninstallResult & { seconds: number }> {
    return this.exclusively('uninstall', async () => {
      const release = this.release;
      if (!release) throw new AmbitError('AMBIT_ERR_LAB_STATE', `lab ${this.paths.lab} has no release ${LAB_RELEASE.name} to uninstall`);
      const started = Date.now();
      const result = await uninstallRelease(this.releaseHost(), release, opts);
      this.release = undefined;
      rmSync(this.paths.releaseFile, { force: true });
      log.info({ deleted: result.objects.filter((o) => o.result === 'deleted').length, podsStopped: result.podsStopped }, 'release uninstalled');
      return { ...result, seconds: (Date.now() - started) / 1000 };
    });
  }

  /**
   * The pods the lab runs as the Ambit image, through its kubelet (their env, args and volumes
   * as the pod spec says): the chart's, and the Waypoints' the controller writes. Every other
   * pod runs its own command.
   */
  private async meshImageContainers(pod: KubeObject, ip: string, node: NodeNet, dir: string): Promise<ContainerSpec[] | undefined> {
    if (!this.kubelet?.handles(pod)) return undefined;
    const ns = pod.metadata.namespace ?? 'default';
    const sa = this.store.tryGet('serviceaccounts', ns, (pod.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName || 'default');
    // The pod as the kubelet sees it once bound: its node and addresses are known.
    const bound = { ...pod, spec: { ...(pod.spec ?? {}), nodeName: node.name }, status: { ...(pod.status ?? {}), hostIP: node.ip, podIP: ip } } as KubeObject;
    return this.kubelet.containers(bound, node.name, dir, sa);
  }

  /** The trust bundle the controller published, if it has. */
  private rootCaBundle(): string | undefined {
    const cm = this.store.tryGet('configmaps', MESH_NAMESPACE, ROOT_CA_CONFIGMAP) as { data?: Record<string, string> } | undefined;
    return cm?.data?.[ROOT_CA_KEY];
  }

  private async waitForRootCa(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.rootCaBundle() === undefined) {
      if (Date.now() > deadline) {
        const controller = this.components.find((c) => c.spec.kind === 'controller');
        throw new AmbitError('AMBIT_ERR_LAB_STATE', `the controller did not publish ConfigMap ${MESH_NAMESPACE}/${ROOT_CA_CONFIGMAP} within ${timeoutMs / 1000}s (log: ${controller?.logFile})`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    this.projectRootCa();
  }

  /**
   * Plays kubelet for the ConfigMap volume of the agents the lab runs itself (without
   * `--chart`; the chart's, like every pod of the Ambit image, get theirs from the kubelet):
   * each node's file follows the ConfigMap,
   * replaced in one rename so an agent never reads half a bundle. A deleted ConfigMap
   * leaves the files as they are, as kubelet does.
   */
  private projectRootCa(): void {
    const pem = this.rootCaBundle();
    if (pem === undefined || pem === this.projectedRootCa) return;
    for (const node of this.nodes) {
      const file = this.paths.nodeRootCaFile(node.name);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.tmp`, pem, { mode: 0o644 });
      renameSync(`${file}.tmp`, file);
    }
    this.projectedRootCa = pem;
    log.info({ configMap: `${MESH_NAMESPACE}/${ROOT_CA_CONFIGMAP}` }, 'trust bundle projected to the nodes');
  }

  private startComponent(spec: Omit<ComponentSpec, 'cgroup'>): void {
    const c = new Component({ ...spec, cgroup: this.paths.systemCgroup(this.cgroup2, spec.name) }, this.paths);
    makeCgroup(c.spec.cgroup);
    c.start();
    this.components.push(c);
  }

  /** Creates or updates objects; Pods and Services follow through the loop. */
  async apply(objects: KubeObject[]): Promise<{ kind: string; namespace?: string; name: string; result: string }[]> {
    const results = [];
    // Namespaces first, as kubectl users expect one file to create its own namespace.
    const ordered = [...objects].sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'));
    for (const obj of ordered) {
      const res = this.store.resourceOf(obj);
      const before = this.store.tryGet(res, obj.metadata.namespace ?? (res.namespaced ? 'default' : undefined), obj.metadata.name);
      const after = this.store.apply(obj);
      results.push({
        kind: obj.kind,
        ...(after.metadata.namespace ? { namespace: after.metadata.namespace } : {}),
        name: obj.metadata.name,
        result: !before ? 'created' : before.metadata.resourceVersion === after.metadata.resourceVersion ? 'unchanged' : 'configured',
      });
    }
    await this.idle();
    return results;
  }

  async delete(objects: KubeObject[]): Promise<{ kind: string; namespace?: string; name: string; result: string }[]> {
    const results = [];
    for (const obj of objects) {
      const res = this.store.resourceOf(obj);
      const ns = res.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
      const found = this.store.tryGet(res, ns, obj.metadata.name);
      if (found) this.store.delete(res, ns, obj.metadata.name);
      results.push({ kind: obj.kind, ...(ns ? { namespace: ns } : {}), name: obj.metadata.name, result: found ? 'deleted' : 'not found' });
    }
    await this.idle();
    return results;
  }

  private kick(): void {
    this.dirty = true;
    if (this.holding) return;
    // The loop starts on a later tick, so `loop` is set before a pass runs: a pass's own store
    // writes kick again, and a kick from outside a store event (a container exiting) used to
    // start a second loop from inside the first one's pass, which then started a pod twice.
    this.loop ??= Promise.resolve()
      .then(() => this.runLoop())
      .finally(() => (this.loop = undefined));
  }

  /**
   * Runs several store writes as one change: the store notifies synchronously, and a loop
   * pass started between them would act on the half-done state.
   */
  private atomically(writes: () => void): void {
    this.holding = true;
    try {
      writes();
    } finally {
      this.holding = false;
      this.kick();
    }
  }

  /** Resolves once the loop has nothing left to do and the pods it deleted have stopped. */
  private async idle(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (!this.loop && this.dirty) this.kick();
      if (this.loop) await this.loop;
      else await this.pods.stopped();
      if (!this.loop && !this.dirty && this.pods.terminating().length === 0) return;
    }
  }

  private async runLoop(): Promise<void> {
    // Each pass may write objects and so mark the loop dirty again; passes
    // converge because every step is idempotent. Bounded against a bug.
    for (let pass = 0; this.dirty && pass < 200; pass++) {
      this.dirty = false;
      try {
        await this.reconcile();
      } catch (err) {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'reconcile failed');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private workloadView(): WorkloadView {
    return { store: this.store, nodes: this.nodes, ipam: this.ipam, pods: this.pods, hostsFor: (p) => this.hostsFor(p) };
  }

  private async reconcile(): Promise<void> {
    if (this.phase === 'stopping') return;
    await reconcileWorkloads(this.workloadView());
    await this.syncKubeProxy();
    this.syncHosts();
    if (!this.fromChart) this.projectRootCa();
    this.kubelet?.refresh();
  }

  private serviceRules(): ServiceRule[] {
    const rules: ServiceRule[] = [];
    for (const svc of this.store.list('services').items) {
      const spec = svc.spec as { clusterIP?: string; ports?: { port: number; protocol?: string; name?: string }[] } | undefined;
      if (!spec?.clusterIP || spec.clusterIP === 'None') continue;
      const slices = this.store.list('endpointslices', {
        namespace: svc.metadata.namespace,
        labelSelector: `kubernetes.io/service-name=${svc.metadata.name}`,
      }).items;
      for (const p of spec.ports ?? []) {
        const endpoints: { ip: string; port: number }[] = [];
        for (const slice of slices) {
          const s = slice as unknown as {
            endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[];
            ports?: { name?: string; port?: number }[];
          };
          const sp = (s.ports ?? []).find((x) => (x.name ?? '') === (p.name ?? ''));
          if (!sp?.port) continue;
          for (const e of s.endpoints ?? []) {
            if (e.conditions?.ready === false) continue;
            for (const a of e.addresses) endpoints.push({ ip: a, port: sp.port });
          }
        }
        rules.push({ clusterIP: spec.clusterIP, port: p.port, protocol: p.protocol === 'UDP' ? 'UDP' : 'TCP', endpoints });
      }
    }
    return rules;
  }

  private async syncKubeProxy(): Promise<void> {
    const rules = this.serviceRules();
    const key = JSON.stringify(rules);
    for (const node of this.nodes) {
      if (this.appliedRules.get(node.name) === key) continue;
      await applyRules(node.netns, rules);
      this.appliedRules.set(node.name, key);
    }
  }

  private serviceNames(): { name: string; namespace: string; clusterIP: string }[] {
    return this.store
      .list('services')
      .items.map((s) => ({
        name: s.metadata.name,
        namespace: s.metadata.namespace ?? 'default',
        clusterIP: (s.spec as { clusterIP?: string } | undefined)?.clusterIP ?? '',
      }))
      .filter((s) => s.clusterIP && s.clusterIP !== 'None');
  }

  private hostsFor(pod: { name: string; namespace: string; ip: string }): string {
    return renderHosts(pod, this.serviceNames());
  }

  private syncHosts(): void {
    const services = this.serviceNames();
    for (const p of this.pods.all()) this.pods.updateHosts(p, renderHosts(p, services));
  }

  /** Waits (bounded) until every pod runs and every node agent is ready. */
  private async settle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.idle();
      const pending = this.store.list('pods').items.filter((p) => !['Running', 'Succeeded'].includes((p.status as { phase?: string } | undefined)?.phase ?? ''));
      const agentsReady = await Promise.all(this.components.map((c) => adminReady(c.spec.admin)));
      if (pending.length === 0 && agentsReady.every(Boolean)) return;
      if (Date.now() > deadline) {
        const notReady = this.components.filter((_, i) => !agentsReady[i]).map((c) => `${c.spec.name} (log: ${c.logFile})`);
        throw new AmbitError(
          'AMBIT_ERR_LAB_STATE',
          `the lab did not settle within ${timeoutMs / 1000}s: ` +
            [pending.length ? `pods not running: ${pending.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).join(', ')}` : '', notReady.length ? `not ready: ${notReady.join(', ')}` : '']
              .filter(Boolean)
              .join('; '),
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  status(): LabStatus {
    const namespaces = new Map(this.store.list('namespaces').items.map((n) => [n.metadata.name, n]));
    return {
      lab: this.paths.lab,
      phase: this.phase,
      ...(this.error ? { error: this.error } : {}),
      api: { url: this.apiUrl, kubeconfig: join(this.paths.stateDir, 'kubeconfig') },
      nodes: this.nodes.map((n) => ({ name: n.name, ip: n.ip, netns: n.netns, podCIDR: n.podCIDR })),
      pods: this.store.list('pods').items.map((p) => {
        const running = this.pods.get(p.metadata.uid ?? '');
        const status = (p.status ?? {}) as { podIP?: string; phase?: string };
        return {
          namespace: p.metadata.namespace ?? 'default',
          name: p.metadata.name,
          ip: status.podIP,
          node: (p.spec as { nodeName?: string } | undefined)?.nodeName,
          netns: running?.sandbox.netns,
          meshed: isMeshed(p as never, namespaces.get(p.metadata.namespace ?? 'default') as never),
          phase: status.phase ?? 'Pending',
          restarts: running?.containers.reduce((n, c) => n + c.restartCount, 0) ?? 0,
        };
      }),
      services: this.store.list('services').items.map((s) => {
        const spec = (s.spec ?? {}) as { clusterIP?: string; ports?: unknown[] };
        return { namespace: s.metadata.namespace ?? 'default', name: s.metadata.name, clusterIP: spec.clusterIP, ports: spec.ports ?? [] };
      }),
      components: [...this.components.map((c) => c.status()), ...this.chartComponents(), ...this.waypointComponents()],
    };
  }

  /**
   * `lab restart waypoint NAMESPACE/NAME`: what `kubectl rollout restart` does to the
   * Waypoint's Deployment (a new pod template, so a RollingUpdate: the new proxy starts and
   * becomes ready before the old one is stopped). Resolves once only new proxies run.
   */
  private async restartWaypoint(ref: string): Promise<{ component: string; oldPid: number | undefined; newPid: number | undefined }> {
    const [namespace, name, extra] = ref.split('/');
    if (!namespace || !name || extra !== undefined) throw new AmbitError('AMBIT_ERR_CONFIG', `a waypoint is named NAMESPACE/NAME, got ${JSON.stringify(ref)}`);
    const deployment = this.store.tryGet('deployments', namespace, name);
    if (deployment?.metadata.labels?.[WAYPOINT_POD_LABEL] !== name) {
      throw new AmbitError('AMBIT_ERR_LAB_STATE', `no waypoint ${namespace}/${name} in lab ${this.paths.lab} (the controller runs a Waypoint as a Deployment of that name); see 'ambit lab status'`);
    }
    return this.rollDeployment(namespace, name, (labels) => labels[WAYPOINT_POD_LABEL] === name, `waypoint ${namespace}/${name}`);
  }

  /**
   * `kubectl rollout restart` of a Deployment: a new pod template, so the lab's Deployment
   * controller rolls it by its strategy. Resolves once only new, ready pods run.
   */
  private async rollDeployment(namespace: string, name: string, owns: (labels: Record<string, string>) => boolean, component: string): Promise<{ component: string; oldPid: number | undefined; newPid: number | undefined }> {
    const mine = () => this.pods.all().filter((p) => p.namespace === namespace && owns(this.store.tryGet('pods', namespace, p.name)?.metadata.labels ?? {}));
    const old = mine();
    const oldUids = new Set(old.map((p) => p.uid));
    const annotations = { 'ambit.dev/restartedAt': new Date().toISOString() };
    this.store.patch('deployments', namespace, name, { spec: { template: { metadata: { annotations } } } }, 'merge');
    this.kick();
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const now = mine();
      const fresh = now.filter((p) => {
        const stored = this.store.tryGet('pods', namespace, p.name);
        return !oldUids.has(p.uid) && stored !== undefined && isPodReady(stored);
      });
      if (fresh.length > 0 && now.every((p) => !oldUids.has(p.uid))) {
        log.info({ component }, 'rolled');
        return { component, oldPid: old[0]?.containers[0]?.pid, newPid: fresh[0]?.containers[0]?.pid };
      }
      if (Date.now() > deadline) throw new AmbitError('AMBIT_ERR_LAB_STATE', `${component} did not roll within ${READY_TIMEOUT_MS / 1000}s; see 'ambit lab status'`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * `lab restart node-agent NODE` when the agents run from the chart: that node's share of a
   * DaemonSet rolling update with maxSurge 1. A replacement pod (same template, not yet owned,
   * so the DaemonSet controller leaves it be) starts beside the old one; once the new process
   * itself answers ready, the DaemonSet adopts it and the old pod is deleted (SIGTERM, then
   * its grace period), in one step so the controller never sees the node without its pod.
   */
  private async restartChartAgent(node: string): Promise<{ component: string; oldPid: number | undefined; newPid: number | undefined }> {
    const owned = (p: KubeObject) => p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet') && (p.spec as { nodeName?: string } | undefined)?.nodeName === node;
    const old = this.store.list('pods', { namespace: MESH_NAMESPACE }).items.find((p) => owned(p) && p.metadata.labels?.['app.kubernetes.io/name'] === 'ambit-node-agent');
    if (!old) throw new AmbitError('AMBIT_ERR_LAB_STATE', `no node agent pod on ${node} in lab ${this.paths.lab}; see 'ambit lab status'`);
    const oldPid = this.pods.find(MESH_NAMESPACE, old.metadata.name)?.containers[0]?.pid;
    const name = `${old.metadata.name.replace(/-[^-]+$/, '')}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    this.store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: MESH_NAMESPACE, labels: old.metadata.labels ?? {}, ...(old.metadata.annotations ? { annotations: old.metadata.annotations } : {}) }, spec: old.spec });
    this.kick();
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let newPid: number | undefined;
    const admin = `${this.nodes.find((n) => n.name === node)?.ip}:15020`;
    while (!(newPid = this.pods.find(MESH_NAMESPACE, name)?.containers[0]?.pid) || !(await readyFrom(admin, newPid, 1000))) {
      if (Date.now() > deadline) {
        this.store.delete('pods', MESH_NAMESPACE, name);
        throw new AmbitError('AMBIT_ERR_LAB_STATE', `the new node agent on ${node} (pod ${MESH_NAMESPACE}/${name}) did not become ready within ${READY_TIMEOUT_MS / 1000}s; the old one keeps running (see 'ambit lab logs ${MESH_NAMESPACE}/${name}')`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    this.atomically(() => {
      this.store.patch('pods', MESH_NAMESPACE, name, { metadata: { ownerReferences: old.metadata.ownerReferences } }, 'merge');
      this.store.delete('pods', MESH_NAMESPACE, old.metadata.name);
    });
    await this.idle();
    log.info({ node, oldPid, newPid }, 'node agent rolled');
    return { component: `node-agent ${node}`, oldPid, newPid };
  }

  /** The controller's and agents' pods when the mesh runs from the chart, listed as the components they are. */
  private chartComponents(): ReturnType<Component['status']>[] {
    if (!this.fromChart) return [];
    const kinds: Record<string, { kind: 'controller' | 'node-agent'; port: number }> = {
      'ambit-controller': { kind: 'controller', port: CONTROLLER_PORTS.admin },
      'ambit-node-agent': { kind: 'node-agent', port: 15020 },
    };
    return this.pods
      .all()
      .filter((p) => p.namespace === MESH_NAMESPACE)
      .flatMap((p) => {
        const which = kinds[this.store.tryGet('pods', p.namespace, p.name)?.metadata.labels?.['app.kubernetes.io/name'] ?? ''];
        if (!which) return [];
        const c = p.containers[0];
        return [{ kind: which.kind, name: `${which.kind}-${p.name}`, node: p.node.name, pid: c?.pid, admin: `${p.ip}:${which.port}`, running: c?.running ?? false, restarts: c?.restartCount ?? 0, rollouts: 0, log: p.sandbox.logFile }];
      });
  }

  /** The waypoint proxies running as pods, listed with the mesh's own processes. */
  private waypointComponents(): ReturnType<Component['status']>[] {
    return this.pods
      .all()
      .filter((p) => this.store.tryGet('pods', p.namespace, p.name)?.metadata.labels?.[WAYPOINT_POD_LABEL])
      .map((p) => {
        const c = p.containers[0];
        return { kind: 'waypoint', name: `waypoint-${p.namespace}-${p.name}`, node: p.node.name, pid: c?.pid, admin: `${p.ip}:15020`, running: c?.running ?? false, restarts: c?.restartCount ?? 0, rollouts: 0, log: p.sandbox.logFile };
      });
  }

  /**
   * Restarts a mesh component as its Kubernetes controller would: a node
   * agent as a DaemonSet rolling update with maxSurge 1 (the new process
   * first, then SIGTERM to the old), the controller by replacing its process.
   */
  async restart(target: { kind: string; node?: string; name?: string }): Promise<{ component: string; oldPid: number | undefined; newPid: number | undefined }> {
    if (target.kind === 'waypoint') return this.restartWaypoint(target.name ?? '');
    if (this.fromChart && target.kind === 'node-agent') return this.restartChartAgent(target.node ?? '');
    if (this.fromChart && target.kind === 'controller') {
      return this.rollDeployment(MESH_NAMESPACE, 'ambit-controller', (labels) => labels['app.kubernetes.io/name'] === 'ambit-controller', 'controller');
    }
    const c = this.components.find((x) => x.spec.kind === target.kind && (target.kind !== 'node-agent' || x.spec.node === target.node));
    if (!c) {
      const known = this.components.map((x) => (x.spec.kind === 'node-agent' ? `node-agent ${x.spec.node}` : x.spec.kind)).join(', ');
      throw new AmbitError('AMBIT_ERR_LAB_STATE', `no component ${target.kind}${target.node ? ` on ${target.node}` : ''} in lab ${this.paths.lab}; there are: ${known}`);
    }
    log.info({ component: c.spec.name }, 'rolling restart');
    return { component: c.spec.name, ...(await c.restart(c.spec.kind === 'node-agent')) };
  }

  podSandbox(namespace: string, name: string) {
    const pod = this.pods.find(namespace, name);
    if (!pod) throw new AmbitError('AMBIT_ERR_LAB_STATE', `no running pod ${namespace}/${name}; see 'ambit lab status'`);
    return pod.sandbox;
  }

  async shutdown(): Promise<void> {
    this.phase = 'stopping';
    await Promise.all(this.components.map((c) => c.stop()));
    await this.pods?.stopAll();
    await this.closeApi?.();
  }
}

async function adminReady(address: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${address}/ready`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * AMBIT_LAB_NODE_FLAGS: extra Node flags for the controller and agents, for
 * profiling them in the lab (`--cpu-prof`, `--perf-basic-prof`, `--trace-gc`:
 * flags NODE_OPTIONS refuses or that would reach every pod's processes too).
 */
function extraNodeFlags(): string[] {
  return (process.env.AMBIT_LAB_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
}
