import http from 'node:http';
import { join } from 'node:path';
import { AmbitError } from '../lib/errors.js';
import type { LabPaths } from './paths.js';
import { ProcessGroup, type ContainerState, type ProcessHost } from './runtime.js';

export type ComponentKind = 'controller' | 'node-agent' | 'waypoint';

export interface ComponentSpec {
  kind: ComponentKind;
  /** Unique among the lab's components, e.g. `node-agent-node1`. */
  name: string;
  node: string | undefined;
  netns: string;
  cgroup: string;
  /** Compiled entry point, relative to the repo root. */
  entry: string;
  /** Node.js flags before the entry point (the component's own runtime tuning). */
  nodeFlags: readonly string[];
  env: Record<string, string>;
  admin: string;
}

export interface ComponentStatus {
  kind: ComponentKind;
  name: string;
  node: string | undefined;
  pid: number | undefined;
  admin: string;
  running: boolean;
  restarts: number;
  /** Rolling restarts done (`lab restart`). */
  rollouts: number;
  log: string;
}

/** Runs a process in a namespace and cgroup (no pod sandbox: components see the host's files). */
function componentHost(spec: ComponentSpec, logFile: string): ProcessHost {
  return {
    wrap: (argv) => [
      'nsenter',
      `--net=/run/netns/${spec.netns}`,
      'sh',
      '-c',
      'echo $$ > "$1/cgroup.procs" && shift && exec "$@"',
      'ambit-component',
      spec.cgroup,
      ...argv,
    ],
    logFile,
    label: spec.name,
  };
}

/** Longest a rolling restart waits for the new process to be ready. */
const READY_TIMEOUT_MS = 60_000;
/** How long a stopping component may take before SIGKILL: the agent's handover wait and drain period fit in it. */
const STOP_GRACE_MS = 35_000;

/**
 * The mesh's own processes in the lab (what a DaemonSet or Deployment would
 * run in a cluster), restarted on exit like a kubelet would, and rolled like
 * their Kubernetes controller would roll them (`restart`).
 */
export class Component {
  private group: ProcessGroup;
  private state: ContainerState | undefined;
  private rollouts = 0;
  readonly logFile: string;

  constructor(
    readonly spec: ComponentSpec,
    private readonly paths: LabPaths,
  ) {
    this.logFile = paths.componentLog(spec.name);
    this.group = this.newGroup();
  }

  private newGroup(): ProcessGroup {
    const group: ProcessGroup = new ProcessGroup(
      componentHost(this.spec, this.logFile),
      [
        {
          name: this.spec.name,
          argv: [process.execPath, '--enable-source-maps', ...this.spec.nodeFlags, join(this.paths.repoRoot, this.spec.entry)],
          env: { ...process.env, ...this.spec.env } as Record<string, string>,
          workingDir: this.paths.repoRoot,
        },
      ],
      'Always',
      (states) => {
        if (this.group === group) this.state = states[0];
      },
    );
    return group;
  }

  start(): void {
    this.group.start();
  }

  stop(): Promise<void> {
    return this.group.stop(STOP_GRACE_MS);
  }

  /**
   * Replaces the process the way its Kubernetes controller would. With
   * `surge` (a DaemonSet with maxSurge 1, the node agent): the new process
   * starts beside the old one, and only once its admin port answers ready
   * from the new process does the old one get SIGTERM. Without (the
   * controller, which holds its ports alone): SIGTERM first, then the new one.
   */
  async restart(surge: boolean): Promise<{ oldPid: number | undefined; newPid: number | undefined }> {
    const old = this.group;
    const oldPid = this.state?.pid;
    if (!surge) await old.stop(STOP_GRACE_MS);
    const next = this.newGroup();
    this.group = next;
    this.rollouts++;
    next.start();
    const newPid = next.snapshot()[0]?.pid;
    this.state = next.snapshot()[0];
    if (surge) {
      const ready = newPid !== undefined && (await readyFrom(this.spec.admin, newPid, READY_TIMEOUT_MS));
      if (!ready) throw new AmbitError('AMBIT_ERR_LAB_STATE', `${this.spec.name}: the new process (pid ${newPid}) did not become ready within ${READY_TIMEOUT_MS / 1000}s; the old one keeps running (log: ${this.logFile})`);
      await old.stop(STOP_GRACE_MS);
    }
    return { oldPid, newPid };
  }

  status(): ComponentStatus {
    return {
      kind: this.spec.kind,
      name: this.spec.name,
      node: this.spec.node,
      pid: this.state?.pid,
      admin: this.spec.admin,
      running: this.state?.running ?? false,
      restarts: this.state?.restartCount ?? 0,
      rollouts: this.rollouts,
      log: this.logFile,
    };
  }
}

/**
 * Polls `/ready` on a fresh connection each time until the answer comes from
 * `pid`: two processes share the admin port during a surge, and the kernel
 * spreads connections over both, so only the body tells them apart.
 */
export async function readyFrom(admin: string, pid: number, timeoutMs: number): Promise<boolean> {
  const [host, port] = [admin.slice(0, admin.lastIndexOf(':')), Number(admin.slice(admin.lastIndexOf(':') + 1))];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const body = await new Promise<string>((resolve) => {
      const req = http.get({ host, port, path: '/ready', agent: false, timeout: 1000 }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve(res.statusCode === 200 ? b : ''));
      });
      req.on('error', () => resolve(''));
      req.on('timeout', () => req.destroy());
    });
    if (body.includes(`(pid ${pid})`)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
