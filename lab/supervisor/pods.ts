import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { KubeObject } from '../../lib/k8s/types.js';
import { logger } from '../../lib/log.js';
import { makeCgroup, removeCgroupTree } from '../host/cgroup.js';
import { podCgroupName, type LabPaths } from '../paths.js';
import { podHost, ProcessGroup, renderResolvConf, sandboxFiles, type ContainerSpec, type ContainerState, type PodSandbox, type RestartPolicy } from '../runtime.js';
import { createPodNetwork, deletePodNetwork, type NodeNet } from '../topology.js';
import { join } from 'node:path';

const log = logger('lab', 'pods');
/** The lab's grace for pods that set none (Kubernetes' is 30 s; the lab's pods stop at once on SIGTERM). */
const LAB_GRACE_SECONDS = 2;

/** A pod the lab is running: its sandbox and processes. */
export interface RunningPod {
  uid: string;
  namespace: string;
  name: string;
  node: NodeNet;
  ip: string;
  /** In the node's network namespace, with the node's IP (nothing of its own to release). */
  hostNetwork: boolean;
  sandbox: PodSandbox;
  processes: ProcessGroup;
  containers: ContainerState[];
  hosts: string;
  /** What the readiness probes last said: undefined without probes, false until the first success. */
  probesPass: boolean | undefined;
  /** Stops the probes. */
  stopProbes: () => void;
  /** From SIGTERM to SIGKILL when the pod goes: its terminationGracePeriodSeconds, else the lab's 2 s. */
  graceMs: number;
}

interface PodSpecLike {
  nodeName?: string;
  hostNetwork?: boolean;
  terminationGracePeriodSeconds?: number;
  restartPolicy?: RestartPolicy;
  containers?: {
    name: string;
    command?: string[];
    args?: string[];
    env?: { name: string; value?: string }[];
    workingDir?: string;
    ports?: { name?: string; containerPort?: number }[];
    readinessProbe?: { httpGet?: { path?: string; port?: number | string }; exec?: { command?: string[] }; periodSeconds?: number; timeoutSeconds?: number };
  }[];
}

/**
 * Plays the kubelet: builds a pod's sandbox (network namespace, veth, cgroup,
 * hosts and resolv files) and runs its containers; tears all of it down when
 * the pod goes. Owns the set of running pods.
 */
/**
 * The containers of a pod whose image is the mesh's own (the chart's
 * components, a waypoint proxy): what that image would run, with the env and
 * volumes its spec gives it (../chart/kubelet.ts); undefined for any other
 * pod. Called once the pod's directory exists.
 */
export type MeshImageContainers = (pod: KubeObject, ip: string, node: NodeNet, dir: string) => Promise<ContainerSpec[] | undefined>;

export class PodManager {
  private readonly running = new Map<string, RunningPod>();
  private readonly stopping = new Map<string, { pod: RunningPod; done: Promise<void> }>();

  constructor(
    private readonly paths: LabPaths,
    private readonly cgroup2: string,
    private readonly onContainersChanged: () => void,
    private readonly meshImage: MeshImageContainers = async () => undefined,
    /** Told when a pod's sandbox is gone (the kubelet stops following its volumes). */
    private readonly onStopped: (uid: string) => void = () => {},
  ) {}

  get(uid: string): RunningPod | undefined {
    return this.running.get(uid);
  }

  all(): RunningPod[] {
    return [...this.running.values()];
  }

  find(namespace: string, name: string): RunningPod | undefined {
    return this.all().find((p) => p.namespace === namespace && p.name === name);
  }

  async start(pod: KubeObject, node: NodeNet, ip: string, hosts: string): Promise<RunningPod> {
    const uid = pod.metadata.uid!;
    const namespace = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name;
    const spec = (pod.spec ?? {}) as PodSpecLike;
    // A hostNetwork pod (the node agent) shares its node's network namespace: no sandbox
    // network of its own to make or remove, and its IP is the node's.
    const hostNetwork = spec.hostNetwork === true;
    const netns = hostNetwork ? node.netns : this.paths.podNetns(uid);
    const cgroup = join(this.paths.nodeCgroup(this.cgroup2, node.name), podCgroupName(uid));
    const files = sandboxFiles(this.paths.podDir(namespace, name));
    const sandbox: PodSandbox = { netns, cgroup, hostname: name, ...files };

    mkdirSync(files.dir, { recursive: true });
    writeFileSync(files.hostsFile, hosts);
    writeFileSync(files.resolvFile, renderResolvConf(namespace));
    makeCgroup(cgroup);
    // The containers first: a pod whose ConfigMap or token cannot be had yet stays pending
    // without a network to undo.
    const mesh = await this.meshImage(pod, ip, node, files.dir).catch(async (err: unknown) => {
      await removeCgroupTree(cgroup);
      throw err;
    });
    if (!hostNetwork) {
      try {
        await createPodNetwork({ netns, ip, node });
      } catch (err) {
        await removeCgroupTree(cgroup);
        throw err;
      }
    }
    const containers: ContainerSpec[] = mesh ?? (spec.containers ?? []).map((c) => ({
      name: c.name,
      argv: [...(c.command ?? []), ...(c.args ?? [])],
      env: Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? ''])),
      workingDir: c.workingDir,
    }));
    const processes = new ProcessGroup(podHost(sandbox), containers, spec.restartPolicy ?? 'Always', (states) => {
      const running = this.running.get(uid);
      if (running) running.containers = states;
      this.onContainersChanged();
    });
    const probes = readinessProbes(spec, ip);
    const entry: RunningPod = { uid, namespace, name, node, ip, hostNetwork, sandbox, processes, containers: [], hosts, probesPass: probes.length > 0 ? false : undefined, stopProbes: () => {}, graceMs: (spec.terminationGracePeriodSeconds ?? LAB_GRACE_SECONDS) * 1000 };
    this.running.set(uid, entry);
    entry.processes.start();
    entry.stopProbes = this.runProbes(entry, probes);
    log.info({ pod: `${namespace}/${name}`, node: node.name, ip }, 'pod started');
    return entry;
  }

  /**
   * Stops a pod: SIGTERM, SIGKILL after its grace period, then its sandbox goes. The pod leaves
   * `all()` at once and is `terminating()` until then, so a caller need not wait for it.
   */
  stop(uid: string): Promise<void> {
    const pod = this.running.get(uid);
    if (!pod) return this.stopping.get(uid)?.done ?? Promise.resolve();
    this.running.delete(uid);
    const done = this.teardown(pod).finally(() => this.stopping.delete(uid));
    this.stopping.set(uid, { pod, done });
    return done;
  }

  /** Pods whose processes are still stopping (within their grace period). */
  terminating(): RunningPod[] {
    return [...this.stopping.values()].map((s) => s.pod);
  }

  /** Resolves once every pod being stopped now has stopped. */
  async stopped(): Promise<void> {
    await Promise.all([...this.stopping.values()].map((s) => s.done));
  }

  private async teardown(pod: RunningPod): Promise<void> {
    pod.stopProbes();
    await pod.processes.stop(pod.graceMs);
    await removeCgroupTree(pod.sandbox.cgroup);
    if (!pod.hostNetwork) await deletePodNetwork(pod.sandbox.netns);
    this.onStopped(pod.uid);
    rmSync(pod.sandbox.dir, { recursive: true, force: true });
    log.info({ pod: `${pod.namespace}/${pod.name}` }, 'pod stopped');
  }

  /**
   * Plays the kubelet's readiness probes (HTTP GET, exec; the lab's other pods have none): the pod
   * is ready only while every probe answers 2xx or 3xx within a second, asked every
   * `periodSeconds` (default 10, at least 1; the first at once and then every 0.5 s until it
   * passes, so a new pod is not held back for a whole period).
   */
  private runProbes(pod: RunningPod, probes: Probe[]): () => void {
    if (probes.length === 0) return () => {};
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const round = async () => {
      const results = await Promise.all(probes.map((p) => p.passes(pod)));
      if (stopped) return;
      const pass = results.every(Boolean);
      if (pass !== pod.probesPass) {
        pod.probesPass = pass;
        this.onContainersChanged();
      }
      timer = setTimeout(() => void round(), pass ? Math.min(...probes.map((p) => p.periodMs)) : 500);
    };
    void round();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  /** Rewrites a pod's hosts file when the set of Services changed. */
  updateHosts(pod: RunningPod, hosts: string): void {
    if (pod.hosts === hosts) return;
    writeFileSync(pod.sandbox.hostsFile, hosts); // in place: the pod's bind mount sees it
    pod.hosts = hosts;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.all().map((p) => this.stop(p.uid)), this.stopped()]);
  }
}

interface Probe {
  passes(pod: RunningPod): Promise<boolean>;
  periodMs: number;
}

/**
 * The readiness probes of a pod's containers: an HTTP GET (named ports resolved) passes on a
 * 2xx or 3xx answer, an exec probe when its command exits 0, run as the kubelet's ExecSync
 * would, in the container's own mount namespace (where its volumes are), each within
 * timeoutSeconds (default 1).
 */
function readinessProbes(spec: PodSpecLike, ip: string): Probe[] {
  return (spec.containers ?? []).flatMap((c): Probe[] => {
    const probe = c.readinessProbe;
    const periodMs = Math.max(1, probe?.periodSeconds ?? 10) * 1000;
    const timeoutMs = Math.max(1, probe?.timeoutSeconds ?? 1) * 1000;
    const command = probe?.exec?.command;
    if (command?.length) {
      const passes = (pod: RunningPod) => {
        const pid = pod.containers.find((x) => x.name === c.name)?.pid;
        if (pid === undefined) return Promise.resolve(false);
        return new Promise<boolean>((done) => execFile('nsenter', ['-t', String(pid), '-m', '--', ...command], { timeout: timeoutMs }, (err) => done(!err)));
      };
      return [{ passes, periodMs }];
    }
    const get = probe?.httpGet;
    if (!get) return [];
    const port = typeof get.port === 'number' ? get.port : c.ports?.find((p) => p.name === get.port)?.containerPort;
    if (port === undefined) return [];
    const url = `http://${ip}:${port}${get.path?.startsWith('/') ? get.path : `/${get.path ?? ''}`}`;
    const passes = () => fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' }).then((r) => r.status >= 200 && r.status < 400, () => false);
    return [{ passes, periodMs }];
  });
}
