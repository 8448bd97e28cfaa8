import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeConfig } from '../../lib/k8s/client.js';
import { labPaths, type LabPaths } from '../../lab/paths.js';
import { controlRequest } from '../../lab/supervisor/control.js';
import type { LabStatus } from '../../lab/supervisor/lab.js';
import { UsageError, type CheckOptions } from './args.js';
import { chartProcesses, labProcesses, type MeshProcesses } from './mesh-processes.js';
import type { Target } from './types.js';

/**
 * Set on the copy of `ambit check` that runs inside a lab's fabric network
 * namespace (where the lab's API server and admin ports are); names the lab.
 * Internal: users never set it.
 */
export const IN_LAB_ENV = 'AMBIT_CHECK_IN_LAB';

export type Resolution =
  /** Run again inside this lab's fabric namespace, as `ambit lab kubectl` runs kubectl. */
  | { kind: 'enter-lab'; paths: LabPaths }
  | { kind: 'ready'; kc: KubeConfig; target: Target; mesh: MeshProcesses };

/**
 * The rule (docs/install.md, Checking an install): a kubeconfig named by
 * --kubeconfig, --context or $KUBECONFIG wins; else a lab that is up (the one
 * lab commands address: AMBIT_LAB, or the only one up); else
 * ~/.kube/config or in-cluster credentials. The output's first line names
 * the target, so the choice is never silent.
 */
export async function resolveTarget(opts: CheckOptions, env: NodeJS.ProcessEnv, findLab: () => Promise<LabPaths | undefined>): Promise<Resolution> {
  const inLab = env[IN_LAB_ENV];
  if (inLab) return inLabTarget(labPaths(inLab));
  if (!opts.kubeconfig && !opts.context && !env['KUBECONFIG']) {
    const paths = await findLab();
    if (paths) return { kind: 'enter-lab', paths };
  }
  return kubeconfigTarget(opts);
}

function kubeconfigTarget(opts: CheckOptions): Resolution {
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
