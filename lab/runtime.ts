import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { logger } from '../lib/log.js';

const log = logger('lab', 'runtime');

/**
 * The argv that runs a command as a container of a pod: in the pod's network
 * namespace (nsenter, not `ip netns exec`, which would remount /sys and hide
 * cgroup and bpffs), in a private mount and UTS namespace that shows the pod's
 * own /etc/hosts, /etc/resolv.conf and hostname, moved into the pod's cgroup
 * before exec so every socket it opens is charged to the pod.
 */
export function podCommand(pod: PodSandbox, argv: string[]): string[] {
  const script =
    'echo $$ > "$1/cgroup.procs" && mount --bind "$2" /etc/hosts && mount --bind "$3" /etc/resolv.conf && ' +
    'hostname "$4" && shift 4 && exec "$@"';
  return [
    'nsenter',
    `--net=/run/netns/${pod.netns}`,
    'unshare',
    '--mount',
    '--uts',
    '--propagation',
    'private',
    'sh',
    '-c',
    script,
    'ambit-pod',
    pod.cgroup,
    pod.hostsFile,
    pod.resolvFile,
    pod.hostname,
    ...argv,
  ];
}

/** A folder shown at `target` inside one container's private mount namespace (a volumeMount). */
export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/**
 * Prefixes a container's argv so that, inside the private mount namespace podCommand gives
 * it, each source folder is bind-mounted at its target (read-only where asked) before the
 * command runs: the process finds its volumes at the paths its pod spec names. The mount
 * points are created on the host if missing (empty folders; the mounts stay private).
 */
export function withMounts(mounts: readonly BindMount[], argv: readonly string[]): string[] {
  if (mounts.length === 0) return [...argv];
  const script =
    'while [ "$1" != -- ]; do mkdir -p "$2" && mount --bind "$1" "$2" || exit 126; ' +
    'if [ "$3" = ro ]; then mount -o remount,bind,ro "$2" || exit 126; fi; shift 3; done; shift; exec "$@"';
  return ['sh', '-c', script, 'ambit-mounts', ...mounts.flatMap((m) => [m.source, m.target, m.readOnly ? 'ro' : 'rw']), '--', ...argv];
}

export interface PodSandbox {
  netns: string;
  cgroup: string;
  dir: string;
  hostsFile: string;
  resolvFile: string;
  logFile: string;
  hostname: string;
}

export function sandboxFiles(dir: string): Pick<PodSandbox, 'dir' | 'hostsFile' | 'resolvFile' | 'logFile'> {
  return { dir, hostsFile: join(dir, 'hosts'), resolvFile: join(dir, 'resolv.conf'), logFile: join(dir, 'output.log') };
}

export interface ContainerSpec {
  name: string;
  argv: string[];
  env: Record<string, string>;
  workingDir: string | undefined;
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface ContainerState {
  name: string;
  pid: number | undefined;
  running: boolean;
  restartCount: number;
  lastExitCode: number | undefined;
  startedAt: string | undefined;
  /** Exited, and the restart policy will not run it again (Never, or OnFailure after exit 0): the kubelet's terminated state. */
  finished: boolean;
}

const MAX_BACKOFF_MS = 10_000;

/** Where and how a group of supervised processes runs. */
export interface ProcessHost {
  /** Wraps a command so it runs in the right namespaces and cgroup. */
  wrap(argv: string[]): string[];
  logFile: string;
  /** Names the group in logs (and is HOSTNAME for pods). */
  label: string;
}

export function podHost(sandbox: PodSandbox): ProcessHost {
  return { wrap: (argv) => podCommand(sandbox, argv), logFile: sandbox.logFile, label: sandbox.hostname };
}

/**
 * Runs a group of processes (a pod's containers, or one mesh component) and
 * restarts them per restartPolicy with exponential backoff, like a kubelet.
 * All output goes to the group's log file. `onChange` reports state.
 */
export class ProcessGroup {
  private readonly children = new Map<string, ChildProcess>();
  private readonly states = new Map<string, ContainerState>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly host: ProcessHost,
    private readonly containers: ContainerSpec[],
    private readonly restartPolicy: RestartPolicy,
    private readonly onChange: (states: ContainerState[]) => void = () => {},
  ) {
    mkdirSync(dirname(host.logFile), { recursive: true });
  }

  start(): void {
    for (const c of this.containers) {
      this.states.set(c.name, { name: c.name, pid: undefined, running: false, restartCount: 0, lastExitCode: undefined, startedAt: undefined, finished: false });
      this.launch(c, 0);
    }
  }

  private launch(c: ContainerSpec, attempt: number): void {
    if (this.stopped) return;
    const out = openSync(this.host.logFile, 'a');
    const argv = this.host.wrap(c.argv);
    const child = spawn(argv[0] as string, argv.slice(1), {
      stdio: ['ignore', out, out],
      env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: '/root', HOSTNAME: this.host.label, ...c.env },
      cwd: c.workingDir ?? '/',
    });
    closeSync(out);
    const state = this.states.get(c.name)!;
    state.pid = child.pid;
    state.running = child.pid !== undefined;
    state.startedAt = new Date().toISOString();
    this.children.set(c.name, child);
    this.onChange(this.snapshot());
    child.on('error', (err) => log.warn({ container: c.name, err: err.message }, 'container failed to start'));
    child.on('exit', (code, signal) => {
      state.running = false;
      state.pid = undefined;
      state.lastExitCode = code ?? (signal ? 128 : 1);
      this.children.delete(c.name);
      if (this.stopped) return;
      const again = this.restartPolicy === 'Always' || (this.restartPolicy === 'OnFailure' && state.lastExitCode !== 0);
      state.finished = !again;
      log.info({ group: this.host.label, container: c.name, code, signal, restart: again }, 'container exited');
      this.onChange(this.snapshot());
      if (!again) return;
      state.restartCount++;
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.launch(c, attempt + 1);
      }, delay);
      this.timers.add(timer);
    });
  }

  snapshot(): ContainerState[] {
    return [...this.states.values()].map((s) => ({ ...s }));
  }

  /** Stops every container: SIGTERM, then SIGKILL after the grace period. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    const exits = [...this.children.values()].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
  }
}

/** /etc/hosts of a pod: itself plus every Service name it may resolve. */
export function renderHosts(pod: { name: string; namespace: string; ip: string }, services: { name: string; namespace: string; clusterIP: string }[]): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${pod.ip}\t${pod.name}`];
  for (const s of [...services].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))) {
    const names = [`${s.name}.${s.namespace}.svc.cluster.local`, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}`];
    if (s.namespace === pod.namespace) names.push(s.name);
    lines.push(`${s.clusterIP}\t${names.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderResolvConf(namespace: string): string {
  return `search ${namespace}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.53\noptions ndots:5 timeout:1 attempts:1\n`;
}
