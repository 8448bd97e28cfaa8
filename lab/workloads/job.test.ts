import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../lib/k8s/types.js';
import { JOB_NAME_LABEL, JOB_UID_LABEL, jobFinished, planJob, type JobStatus } from './job.js';

const NOW = new Date('2025-01-02T03:04:05.678Z');
const job = (spec: Record<string, unknown> = {}, status?: Partial<JobStatus>): KubeObject =>
  ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'hook', namespace: 'sys', uid: 'job-uid' },
    spec: { backoffLimit: 2, template: { metadata: { labels: { app: 'hook' } }, spec: { serviceAccountName: 'hook-sa', restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } }, ...spec },
    ...(status ? { status } : {}),
  }) as unknown as KubeObject;
/** A pod of the Job's, as the kubelet left it. */
const pod = (name: string, phase: string, restartCount = 0): KubeObject =>
  ({
    metadata: { name, namespace: 'sys', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'hook', uid: 'job-uid', controller: true }] },
    spec: {},
    status: { phase, containerStatuses: [{ name: 'c', restartCount }], conditions: [{ type: 'Ready', status: phase === 'Running' ? 'True' : 'False' }] },
  }) as unknown as KubeObject;

describe('Job controller', () => {
  it("starts one pod from the template, with the Job's labels, owned by it", () => {
    const plan = planJob(job(), [], NOW);
    assert.equal(plan.create.length, 1);
    const p = plan.create[0]!;
    assert.match(p.metadata.name, /^hook-[a-z0-9]{5}$/);
    assert.deepEqual(p.metadata.labels, { app: 'hook', [JOB_UID_LABEL]: 'job-uid', [JOB_NAME_LABEL]: 'hook', 'controller-uid': 'job-uid', 'job-name': 'hook' });
    assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name: 'hook', uid: 'job-uid', controller: true, blockOwnerDeletion: true }]);
    assert.equal((p.spec as { serviceAccountName: string }).serviceAccountName, 'hook-sa');
    assert.deepEqual(plan.status, { active: 1, ready: 0, succeeded: 0, failed: 0, startTime: '2025-01-02T03:04:05Z' });
  });

  it('waits while its pod runs, then is Complete once it succeeded', () => {
    const running = planJob(job(), [pod('hook-a', 'Running')], NOW);
    assert.deepEqual([running.create, running.delete], [[], []]);
    assert.equal(running.status.ready, 1);
    const done = planJob(job(), [pod('hook-a', 'Succeeded')], NOW);
    assert.equal(done.create.length, 0);
    assert.equal(done.status.succeeded, 1);
    assert.equal(done.status.completionTime, '2025-01-02T03:04:05Z');
    assert.deepEqual(done.status.conditions?.map((c) => [c.type, c.status]), [['Complete', 'True']]);
    // Finished is final: the next pass changes nothing.
    const again = planJob(job({}, done.status), [pod('hook-a', 'Succeeded')], new Date('2025-01-02T04:00:00Z'));
    assert.deepEqual(again.status, done.status);
    assert.equal(jobFinished(job({}, done.status))?.type, 'Complete');
  });

  it('restartPolicy Never: replaces failed pods until backoffLimit, then fails', () => {
    const retry = planJob(job(), [pod('hook-a', 'Failed'), pod('hook-b', 'Failed')], NOW);
    assert.equal(retry.create.length, 1, 'two failures with backoffLimit 2: one more try');
    assert.notEqual(retry.create[0]!.metadata.name, 'hook-a');
    const failed = planJob(job(), [pod('hook-a', 'Failed'), pod('hook-b', 'Failed'), pod('hook-c', 'Failed')], NOW);
    assert.equal(failed.create.length, 0);
    assert.equal(failed.status.failed, 3);
    assert.deepEqual(failed.status.conditions?.map((c) => [c.type, c.reason]), [['Failed', 'BackoffLimitExceeded']]);
    assert.equal(failed.status.completionTime, undefined);
  });

  it('restartPolicy OnFailure: container restarts count as failures, and a failed Job stops its pod', () => {
    const onFailure = { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c' }] } } };
    assert.equal(planJob(job(onFailure), [pod('hook-a', 'Running', 1)], NOW).status.conditions, undefined);
    const failed = planJob(job(onFailure), [pod('hook-a', 'Running', 2)], NOW);
    assert.deepEqual(failed.status.conditions?.map((c) => c.reason), ['BackoffLimitExceeded']);
    assert.deepEqual(failed.delete.map((p) => p.metadata.name), ['hook-a']);
    assert.equal(failed.status.active, 0);
    // backoffLimit 0: the first restart fails it.
    assert.equal(planJob(job({ ...onFailure, backoffLimit: 0 }), [pod('hook-a', 'Running', 1)], NOW).status.conditions?.[0]?.type, 'Failed');
  });

  it('runs parallelism pods at a time until completions succeeded', () => {
    const spec = { completions: 3, parallelism: 2 };
    assert.equal(planJob(job(spec), [], NOW).create.length, 2);
    assert.equal(planJob(job(spec), [pod('hook-a', 'Succeeded'), pod('hook-b', 'Running')], NOW).create.length, 1);
    assert.equal(planJob(job(spec), [pod('hook-a', 'Succeeded'), pod('hook-b', 'Succeeded'), pod('hook-c', 'Running')], NOW).create.length, 0);
  });

  it('fails a template whose restartPolicy a Job may not have, as the API server would refuse it', () => {
    const plan = planJob(job({ template: { spec: { containers: [{ name: 'c' }] } } }), [], NOW);
    assert.equal(plan.create.length, 0);
    assert.match(plan.status.conditions?.[0]?.message ?? '', /restartPolicy: Unsupported value: "": supported values: "OnFailure", "Never"/);
  });

  it("ignores pods it does not own and keeps names free of other pods'", () => {
    const other = { ...pod('hook-bbbbb', 'Failed'), metadata: { name: 'hook-bbbbb', namespace: 'sys', ownerReferences: [{ kind: 'Job', name: 'hook', uid: 'older-job' }] } } as unknown as KubeObject;
    let draws = 0;
    const plan = planJob(job(), [other], NOW, () => (draws++ < 5 ? 0 : 0.5));
    assert.equal(plan.status.failed, 0);
    assert.equal(plan.create.length, 1);
    assert.notEqual(plan.create[0]!.metadata.name, 'hook-bbbbb');
  });
});
