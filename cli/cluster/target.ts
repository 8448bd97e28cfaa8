import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { AmbitError } from '../../lib/errors.js';
import { kubeConfig } from '../../lib/k8s/client.js';
import { labPaths, type LabPaths } from '../../lab/paths.js';
import { controlRequest } from '../../lab/supervisor/control.js';
import type { LabStatus } from '../../lab/supervisor/lab.js';
import { EXIT } from '../exit.js';
import { UsageError, type TargetOptions } from '../options.js';
import { chartProcesses, labProcesses, type MeshProcesses } from './mesh-processes.js';

/** Which cluster a command asks, as its output names it. */
export interface Target {
  /** `lab`: a lab on this machine (its API server, its processes); `kubeconfig`: anything else. */
  kind: 'lab' | 'kubeconfig';
  /** The lab's name, or the kubeconfig context. */
  name: string;
  server: string;
}

/** A cluster ready to be asked: its API with the user's credentials, and the mesh's processes. */
export interface Cluster {
  kc: KubeConfig;
  target: Target;
  mesh: MeshProcesses;
}

/**
 * Set on the copy of an `ambit` command that runs inside a lab's fabric network
 * namespace (where the lab's API server and admin ports are); names the lab.
 * Internal: users never set it.
 */
export const IN_LAB_ENV = 'AMBIT_CLI_IN_LAB';

export type Resolution =
  /** Run again inside this lab's fabric namespace, as `ambit lab kubectl` runs kubectl. */
  | { kind: 'enter-lab'; paths: LabPaths }
  | ({ kind: 'ready' } & Cluster);

type Where = Pick<TargetOptions, 'kubeconfig' | 'context' | 'namespace'>;

/**
 * The rule (docs/install.md, Checking an install): a kubeconfig named by
 * --kubeconfig, --context or $KUBECONFIG wins; else a lab that is up (the one
 * lab commands address: AMBIT_LAB, or the only one up); else
 * ~/.kube/config or in-cluster credentials. The output's first line names
 * the target, so the choice is never silent.
 */
export async function resolveTarget(opts: Where, env: NodeJS.ProcessEnv, findLab: () => Promise<LabPaths | undefined>): Promise<Resolution> {
  const inLab = env[IN_LAB_ENV];
  if (inLab) return inLabTarget(labPaths(inLab));
  if (!opts.kubeconfig && !opts.context && !env['KUBECONFIG']) {
    const paths = await findLab();
    if (paths) return { kind: 'enter-lab', paths };
  }
  return kubeconfigTarget(opts);
}

function kubeconfigTarget(opts: Where): Resolution {
  const kc = new KubeConfig();
  if (opts.kubeconfig) {
    if (!existsSync(opts.kubeconfig)) throw new UsageError(`--kubeconfig ${opts.kubeconfig}: no such file`);
    kc.loadFromFile(opts.kubeconfig);
  } else {
    kc.loadFromDefault();
  }
  if (opts.context) {
    if (!kc.getContexts().some((c) => c.name === opts.context)) {
      throw new UsageError(`--context ${JSON.stringify(opts.context)} is not in the kubeconfig (it has ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    }
    kc.setCurrentContext(opts.context);
  }
  // Without any kubeconfig, client-node falls back to http://localhost:8080: say so rather than name that.
  const none = !opts.kubeconfig && !process.env['KUBECONFIG'] && !process.env['KUBERNETES_SERVICE_HOST'] && !existsSync(join(homedir(), '.kube', 'config'));
  return {
    kind: 'ready',
    kc,
    target: { kind: 'kubeconfig', name: none ? '(no kubeconfig found)' : kc.getCurrentContext() || '(none)', server: kc.getCurrentCluster()?.server ?? '(no cluster)' },
    mesh: chartProcesses(kc, opts.namespace),
  };
}

/** Inside the lab's fabric namespace: its kubeconfig (the token-less local listener `lab kubectl` uses) and its processes. */
function inLabTarget(paths: LabPaths): Resolution {
  const file = join(paths.stateDir, 'kubeconfig');
  if (!existsSync(file)) throw new UsageError(`lab ${paths.lab} is not up (no ${file})`);
  const server = (JSON.parse(readFileSync(file, 'utf8')) as { clusters: { cluster: { server: string } }[] }).clusters[0]!.cluster.server;
  const kc = kubeConfig({ server });
  const status = () => controlRequest<LabStatus>(paths.controlSocket, 'GET', '/status');
  return { kind: 'ready', kc, target: { kind: 'lab', name: paths.lab, server }, mesh: labProcesses(paths.lab, paths.fabricNetns, status) };
}

/**
 * Runs `body` against the cluster the options name (the rule of resolveTarget), or, for a
 * lab, runs this same command line again inside the lab's fabric namespace and returns its
 * exit code.
 */
export async function withCluster(opts: Where, findLab: () => Promise<LabPaths | undefined>, body: (c: Cluster) => Promise<number>): Promise<number> {
  const resolved = await resolveTarget(opts, process.env, findLab);
  if (resolved.kind === 'enter-lab') return runInLab(resolved.paths);
  return body(resolved);
}

/**
 * The lab's API server and admin ports live in its fabric network namespace,
 * which only root can enter; the same command line runs again in there (node-local
 * checks are unaffected: only the network namespace changes).
 */
export function runInLab(paths: LabPaths, argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const command = argv[0] ?? '';
  if (process.getuid?.() !== 0) {
    throw new AmbitError('AMBIT_ERR_PRIVILEGE', `lab ${paths.lab} is up and its API server is inside its network namespace: run ambit ${command} as root, or pass --kubeconfig for another cluster`);
  }
  const nsenter = [`--net=/run/netns/${paths.fabricNetns}`, process.execPath, ...process.execArgv, process.argv[1]!, ...argv];
  return new Promise((resolve) => {
    const child = spawn('nsenter', nsenter, { stdio: 'inherit', env: { ...process.env, [IN_LAB_ENV]: paths.lab } });
    child.on('error', (err) => {
      process.stderr.write(`ambit ${command}: cannot enter lab ${paths.lab}'s network namespace: ${err.message}\n`);
      resolve(EXIT.unknown);
    });
    child.on('exit', (code) => resolve(code ?? EXIT.unknown));
  });
}
