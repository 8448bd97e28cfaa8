import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { KubeObject } from '../../lib/k8s/types.js';
import { logger } from '../../lib/log.js';
import { makeCgroup, removeCgroupTree } from '../host/cgroup.js';
import { podCgroupName, type LabPaths } from '../paths.js';
import { podHost, ProcessGroup, renderResolvConf, sandboxFiles, type ContainerSpec, type ContainerState, type PodSandbox, type RestartPolicy } from '../runtime.js';
import { createPodNetwork, deletePodNetwork, type NodeNet } from '../topology.js';
import { join } from 'node:path';

const log = logger('lab', 'pods');

/** A pod the lab is running: its sandbox and processes. */
export interface RunningPod {
  uid: string;
  namespace: string;
  name: string;
  node: NodeNet;
  ip: string;
  sandbox: PodSandbox;
  processes: ProcessGroup;
  containers: ContainerState[];
  hosts: string;
}

interface PodSpecLike {
  nodeName?: string;
  restartPolicy?: RestartPolicy;
  containers?: {
    name: string;
    command?: string[];
    args?: string[];
    env?: { name: string; value?: string }[];
    workingDir?: string;
  }[];
}

/**
 * Plays the kubelet: builds a pod's sandbox (network namespace, veth, cgroup,
 * hosts and resolv files) and runs its containers; tears all of it down when
 * the pod goes. Owns the set of running pods.
 */
/**
 * The containers of a pod whose image is one of the mesh's own (a waypoint
 * proxy): what that image would run, with what the kubelet would mount for
 * it (token, trust bundle); undefined for any other pod. Called once the pod's
 * directory exists.
 */
export type MeshImageContainers = (pod: KubeObject, ip: string, node: NodeNet, dir: string) => Promise<ContainerSpec[] | undefined>;

export class PodManager {
  private readonly running = new Map<string, RunningPod>();

  constructor(
    private readonly paths: LabPaths,
    private readonly cgroup2: string,
    private readonly onContainersChanged: () => void,
    private readonly meshImage: MeshImageContainers = async () => undefined,
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
    const netns = this.paths.podNetns(uid);
    const cgroup = join(this.paths.nodeCgroup(this.cgroup2, node.name), podCgroupName(uid));
    const files = sandboxFiles(this.paths.podDir(namespace, name));
    const sandbox: PodSandbox = { netns, cgroup, hostname: name, ...files };

    mkdirSync(files.dir, { recursive: true });
    writeFileSync(files.hostsFile, hosts);
    writeFileSync(files.resolvFile, renderResolvConf(namespace));
    makeCgroup(cgroup);
    try {
      await createPodNetwork({ netns, ip, node });
    } catch (err) {
      await removeCgroupTree(cgroup);
      throw err;
    }
    const mesh = await this.meshImage(pod, ip, node, files.dir).catch(async (err: unknown) => {
      await deletePodNetwork(netns);
      await removeCgroupTree(cgroup);
      throw err;
    });
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
    const entry: RunningPod = { uid, namespace, name, node, ip, sandbox, processes, containers: [], hosts };
    this.running.set(uid, entry);
    entry.processes.start();
    log.info({ pod: `${namespace}/${name}`, node: node.name, ip }, 'pod started');
    return entry;
  }

  async stop(uid: string): Promise<void> {
    const pod = this.running.get(uid);
    if (!pod) return;
    this.running.delete(uid);
    await pod.processes.stop();
    await removeCgroupTree(pod.sandbox.cgroup);
    await deletePodNetwork(pod.sandbox.netns);
    rmSync(pod.sandbox.dir, { recursive: true, force: true });
    log.info({ pod: `${pod.namespace}/${pod.name}` }, 'pod stopped');
  }

  /** Rewrites a pod's hosts file when the set of Services changed. */
  updateHosts(pod: RunningPod, hosts: string): void {
    if (pod.hosts === hosts) return;
    writeFileSync(pod.sandbox.hostsFile, hosts); // in place: the pod's bind mount sees it
    pod.hosts = hosts;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.all().map((p) => this.stop(p.uid)));
  }
}
