import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Redirector } from '../bpf/loader.js';
import { findPodCgroup } from './cgroups.js';
import { EnrollmentReconciler } from './reconciler.js';

/** An in-memory Redirector: the kernel side as a set. */
class FakeRedirector implements Redirector {
  readonly ids = new Set<bigint>();
  enroll(id: bigint) {
    this.ids.add(id);
  }
  unenroll(id: bigint) {
    this.ids.delete(id);
  }
  enrolled() {
    return [...this.ids];
  }
  stats() {
    return {} as ReturnType<Redirector['stats']>;
  }
  close() {}
}

const root = mkdtempSync(join(tmpdir(), 'ambit-cg-'));
after(() => rmSync(root, { recursive: true, force: true }));

const pod = (namespace: string, name: string, uid: string) => ({ namespace, name, uid });
const idOf = (path: string) => statSync(path, { bigint: true }).ino;

describe('enrollment', () => {
  it('finds pod cgroups as kubelets lay them out', () => {
    mkdirSync(join(root, 'podaaa-1'), { recursive: true });
    mkdirSync(join(root, 'burstable', 'podbbb-2', 'container1'), { recursive: true });
    mkdirSync(join(root, 'kubepods-besteffort.slice', 'kubepods-besteffort-podccc_3.slice'), { recursive: true });
    assert.equal(findPodCgroup(root, 'aaa-1'), join(root, 'podaaa-1'));
    assert.equal(findPodCgroup(root, 'bbb-2'), join(root, 'burstable', 'podbbb-2'));
    assert.equal(findPodCgroup(root, 'ccc-3'), join(root, 'kubepods-besteffort.slice', 'kubepods-besteffort-podccc_3.slice'));
    assert.equal(findPodCgroup(root, 'missing'), undefined);
    assert.equal(findPodCgroup(join(root, 'nope'), 'aaa-1'), undefined);
  });

  it('enrolls the pods the push says are meshed, and follows the push', () => {
    mkdirSync(join(root, 'podp1'), { recursive: true });
    mkdirSync(join(root, 'podp2'), { recursive: true });
    let meshed = [pod('apps', 'web', 'p1')];
    const kernel = new FakeRedirector();
    const r = new EnrollmentReconciler(() => meshed, kernel, root, pino({ level: 'silent' }));
    r.reconcile();
    assert.deepEqual(kernel.enrolled(), [idOf(join(root, 'podp1'))]);
    assert.deepEqual(r.enrolled().map((p) => p.name), ['web']);

    meshed = [];
    r.reconcile();
    assert.deepEqual(kernel.enrolled(), []);
    assert.deepEqual(r.enrolled(), []);
    r.stop();
  });

  it('leaves the kernel alone until the config is complete', () => {
    const kernel = new FakeRedirector();
    kernel.enroll(7n); // left by the previous agent
    const r = new EnrollmentReconciler(() => undefined, kernel, root, pino({ level: 'silent' }));
    r.reconcile();
    assert.deepEqual(kernel.enrolled(), [7n], 'an agent that does not know yet changes nothing');
    r.stop();
  });

  it('removes stale kernel entries a previous agent left, and retries pods whose cgroup is not there yet', async () => {
    const kernel = new FakeRedirector();
    kernel.enroll(999n); // left by a crashed agent
    const pods = [pod('apps', 'late', 'late1')];
    const r = new EnrollmentReconciler(() => pods, kernel, root, pino({ level: 'silent' }), 10);
    r.reconcile();
    assert.deepEqual(kernel.enrolled(), []);
    mkdirSync(join(root, 'podlate1'));
    for (let i = 0; i < 100 && kernel.enrolled().length === 0; i++) await new Promise((res) => setTimeout(res, 10));
    assert.deepEqual(kernel.enrolled(), [idOf(join(root, 'podlate1'))]);
    r.stop();
  });
});
