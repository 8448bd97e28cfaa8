import type { KubeConfig } from '@kubernetes/client-node';
import type { MeshProcesses } from '../cluster/mesh-processes.js';
import type { Target } from '../cluster/target.js';

export type { Target } from '../cluster/target.js';
import type { NodeProbe } from './node-probe.js';

/**
 * The vocabulary of `ambit check`: what a check is, what it answers, and
 * what every check may use. Checks never print and never throw on purpose:
 * an expected problem is an Outcome (a thrown error is reported as a failed
 * check naming it, by the runner).
 */

/** `skip`: the check does not apply here (the reason says why), or a check it needs did not pass. */
export type Status = 'pass' | 'warn' | 'fail' | 'skip';

export interface Outcome {
  status: Status;
  /** One line: what was found. */
  message: string;
  /** What to do about it; every non-pass outcome carries one. */
  hint?: string;
}

/**
 * `node`: describes the machine the command runs on (kernel, mounts), whatever
 * cluster the kubeconfig names. `cluster`: asks the Kubernetes API.
 */
export type Scope = 'node' | 'cluster';

export interface Check {
  /** Stable, kebab-case; scripts key on it in `-o json`. */
  readonly id: string;
  readonly group: string;
  readonly scope: Scope;
  /** Checks that must not have failed or been skipped first (the API being reachable, say). */
  readonly needs?: readonly string[];
  run(ctx: CheckContext): Promise<Outcome> | Outcome;
}

export interface CheckResult extends Outcome {
  id: string;
  group: string;
  scope: Scope;
}

export interface CheckContext {
  kc: KubeConfig;
  target: Target;
  /** Where the chart is (or will be) installed. */
  namespace: string;
  /** How to reach the controller's and the agents' admin ports. */
  mesh: MeshProcesses;
  node: NodeProbe;
  /** Milliseconds since the epoch; injectable for expiry tests. */
  now(): number;
}

export type Mode = 'pre' | 'post';

export interface Report {
  mode: Mode;
  target: Target;
  namespace: string;
  checks: CheckResult[];
  summary: Record<Status, number>;
  /** No check failed (warnings allowed): the exit code is 0. */
  ok: boolean;
}
