import type { KubeObject } from '../../lib/k8s/types.js';
import { freeName, type Random } from './names.js';
import { isPodReady } from './pods.js';

/** The labels the Job controller puts on its pods (and the legacy pair it still sets). */
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const JOB_UID_LABEL = 'batch.kubernetes.io/controller-uid';
const LEGACY_JOB_NAME_LABEL = 'job-name';
const LEGACY_JOB_UID_LABEL = 'controller-uid';
/** Kubernetes' default for spec.backoffLimit. */
const DEFAULT_BACKOFF_LIMIT = 6;

export interface JobCondition {
  type: 'Complete' | 'Failed';
  status: 'True';
  reason: string;
  message: string;
  lastProbeTime: string;
  lastTransitionTime: string;
}

export interface JobStatus {
  active: number;
  ready: number;
  succeeded: number;
  failed: number;
  startTime?: string;
  completionTime?: string;
  conditions?: JobCondition[];
}

export interface JobPlan {
  create: KubeObject[];
  /** Active pods of a Job that has failed (Kubernetes stops them). */
  delete: KubeObject[];
  status: JobStatus;
}

interface JobSpec {
  completions?: number | null;
  parallelism?: number;
  backoffLimit?: number;
  template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> & { restartPolicy?: string } };
}

interface PodStatusLike {
  phase?: string;
  containerStatuses?: { restartCount?: number }[];
}

const phaseOf = (p: KubeObject): string | undefined => (p.status as PodStatusLike | undefined)?.phase;

/** The condition a finished Job carries, if it has finished. */
export function jobFinished(job: KubeObject): JobCondition | undefined {
  return ((job.status as JobStatus | undefined)?.conditions ?? []).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/**
 * The Job controller for one non-indexed Job, as kube-controller-manager's (pkg/controller/job):
 * pods from the template (the Job's labels, owned by it), at most `parallelism` at a time
 * until `completions` have succeeded (Complete), or until failures pass `backoffLimit`
 * (Failed, BackoffLimitExceeded; its running pods are stopped). With restartPolicy Never a
 * failure is a Failed pod, replaced by a new one; with OnFailure the kubelet restarts the
 * container in place and the restarts count instead. Not modelled: the retry backoff delay
 * (a replacement is created at once), activeDeadlineSeconds, ttlSecondsAfterFinished,
 * indexed Jobs, pod failure policies.
 */
export function planJob(job: KubeObject, pods: readonly KubeObject[], now: Date, random: Random = Math.random): JobPlan {
  const spec = (job.spec ?? {}) as JobSpec;
  const previous = (job.status ?? {}) as Partial<JobStatus>;
  const ns = job.metadata.namespace ?? 'default';
  const owned = pods.filter((p) => (p.metadata.namespace ?? 'default') === ns && p.metadata.ownerReferences?.some((o) => o.kind === 'Job' && o.uid === job.metadata.uid));
  const active = owned.filter((p) => phaseOf(p) !== 'Succeeded' && phaseOf(p) !== 'Failed');
  const succeeded = owned.filter((p) => phaseOf(p) === 'Succeeded').length;
  const failed = owned.filter((p) => phaseOf(p) === 'Failed').length;
  const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const status: JobStatus = { active: active.length, ready: active.filter((p) => isPodReady(p)).length, succeeded, failed, startTime: previous.startTime ?? time };
  if (previous.completionTime) status.completionTime = previous.completionTime;
  if (previous.conditions?.length) status.conditions = previous.conditions;
  const plan: JobPlan = { create: [], delete: [], status };

  const finish = (type: JobCondition['type'], reason: string, message: string): JobPlan => {
    status.conditions = [...(status.conditions ?? []), { type, status: 'True', reason, message, lastProbeTime: time, lastTransitionTime: time }];
    if (type === 'Complete') status.completionTime = time;
    return finished(plan, type, active);
  };
  const done = jobFinished(job);
  if (done) return finished(plan, done.type, active);

  const restartPolicy = spec.template?.spec?.restartPolicy;
  if (restartPolicy !== 'Never' && restartPolicy !== 'OnFailure') {
    // The API server refuses such a Job; the lab stores it, so it fails it with the same words.
    return finish('Failed', 'Invalid', `spec.template.spec.restartPolicy: Unsupported value: ${JSON.stringify(restartPolicy ?? '')}: supported values: "OnFailure", "Never"`);
  }
  const completions = typeof spec.completions === 'number' ? spec.completions : 1;
  const parallelism = spec.parallelism ?? 1;
  const backoffLimit = spec.backoffLimit ?? DEFAULT_BACKOFF_LIMIT;
  if (succeeded >= completions) return finish('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods');
  if (failed > backoffLimit || pastBackoffLimitOnFailure(restartPolicy, backoffLimit, active)) {
    return finish('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
  }
  const want = Math.max(0, Math.min(parallelism, completions - succeeded) - active.length);
  const taken = new Set(pods.filter((p) => (p.metadata.namespace ?? 'default') === ns).map((p) => p.metadata.name));
  for (let i = 0; i < want; i++) plan.create.push(podFor(job, spec, taken, random));
  status.active += plan.create.length;
  return plan;
}

/** A finished Job runs nothing more: a failed one's running pods are stopped. */
function finished(plan: JobPlan, type: JobCondition['type'], active: readonly KubeObject[]): JobPlan {
  if (type === 'Failed') {
    plan.delete.push(...active);
    plan.status.active = 0;
    plan.status.ready = 0;
  }
  return plan;
}

/** OnFailure: the restarts of the running pods' containers are the failures (Kubernetes' pastBackoffLimitOnFailure). */
function pastBackoffLimitOnFailure(restartPolicy: string, backoffLimit: number, active: readonly KubeObject[]): boolean {
  if (restartPolicy !== 'OnFailure') return false;
  const restarts = active.reduce((n, p) => n + ((p.status as PodStatusLike | undefined)?.containerStatuses ?? []).reduce((m, c) => m + (c.restartCount ?? 0), 0), 0);
  return backoffLimit === 0 ? restarts > 0 : restarts >= backoffLimit;
}

function podFor(job: KubeObject, spec: JobSpec, taken: Set<string>, random: Random): KubeObject {
  const name = freeName(`${job.metadata.name}-`, taken, random);
  const uid = job.metadata.uid ?? '';
  const template = spec.template ?? {};
  const podSpec = structuredClone(template.spec ?? {});
  podSpec['serviceAccountName'] ??= typeof podSpec['serviceAccount'] === 'string' ? podSpec['serviceAccount'] : 'default';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      generateName: `${job.metadata.name}-`,
      namespace: job.metadata.namespace ?? 'default',
      labels: { ...(template.metadata?.labels ?? {}), [JOB_UID_LABEL]: uid, [JOB_NAME_LABEL]: job.metadata.name, [LEGACY_JOB_UID_LABEL]: uid, [LEGACY_JOB_NAME_LABEL]: job.metadata.name },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: podSpec,
  } as KubeObject;
}
