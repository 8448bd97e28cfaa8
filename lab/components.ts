import { join } from 'node:path';
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

/**
 * The mesh's own processes in the lab (what a DaemonSet or Deployment would
 * run in a cluster), restarted on exit like a kubelet would.
 */
export class Component {
  private readonly group: ProcessGroup;
  private state: ContainerState | undefined;
  readonly logFile: string;

  constructor(
    readonly spec: ComponentSpec,
    paths: LabPaths,
  ) {
    this.logFile = paths.componentLog(spec.name);
    this.group = new ProcessGroup(
      componentHost(spec, this.logFile),
      [{ name: spec.name, argv: [process.execPath, '--enable-source-maps', ...spec.nodeFlags, join(paths.repoRoot, spec.entry)], env: { ...process.env, ...spec.env } as Record<string, string>, workingDir: paths.repoRoot }],
      'Always',
      (states) => (this.state = states[0]),
    );
  }

  start(): void {
    this.group.start();
  }

  stop(): Promise<void> {
    return this.group.stop(5000);
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
      log: this.logFile,
    };
  }
}
