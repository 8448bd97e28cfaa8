import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { detectPodCgroupRoot } from './cgroups.js';

/** Cgroup-v2 trees as kubelets with each driver lay them out, each in its own folder. */
const base = mkdtempSync(join(tmpdir(), 'ambit-cgroot-'));
after(() => rmSync(base, { recursive: true, force: true }));

function node(name: string, dirs: string[]): string {
  const mount = join(base, name);
  for (const d of ['system.slice/containerd.service', 'user.slice', ...dirs]) mkdirSync(join(mount, d), { recursive: true });
  return mount;
}

describe('the kubelet pod cgroup root', () => {
  it('is found from the agent pod under the systemd driver (kubeadm)', () => {
    const mount = node('systemd', ['kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podab_12.slice/cri-containerd-1.scope']);
    const found = detectPodCgroupRoot(mount, 'ab-12');
    assert.deepEqual(found, { path: join(mount, 'kubepods.slice'), driver: 'systemd', how: "the agent's own pod cgroup kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podab_12.slice" });
  });

  it('is found from the agent pod under the cgroupfs driver, Guaranteed and Burstable', () => {
    const mount = node('cgroupfs', ['kubepods/podg-1/c1', 'kubepods/burstable/podb-2/c1']);
    assert.equal(detectPodCgroupRoot(mount, 'g-1').path, join(mount, 'kubepods'));
    assert.equal(detectPodCgroupRoot(mount, 'b-2').driver, 'cgroupfs');
    assert.equal(detectPodCgroupRoot(mount, 'b-2').path, join(mount, 'kubepods'));
  });

  it("is found below the kubelet's own slice on kind nodes, not at the QoS level", () => {
    const mount = node('kind', ['kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-podk_9.slice']);
    assert.equal(detectPodCgroupRoot(mount, 'k-9').path, join(mount, 'kubelet.slice', 'kubelet-kubepods.slice'));
    assert.equal(detectPodCgroupRoot(mount, undefined).path, join(mount, 'kubelet.slice', 'kubelet-kubepods.slice'));
  });

  it("takes the agent's own root over a stale one, and refuses to guess without it", () => {
    const mount = node('both', ['kubepods/old', 'kubepods.slice/kubepods-podn_1.slice']);
    assert.equal(detectPodCgroupRoot(mount, 'n-1').path, join(mount, 'kubepods.slice'));
    assert.throws(() => detectPodCgroupRoot(mount, undefined), /several kubelet pod cgroups .*\(kubepods, kubepods\.slice\).*nodeAgent\.podCgroup/);
  });

  it('uses the only root when the agent pod is not (yet) in it, and says what it looked for when there is none', () => {
    const mount = node('early', ['kubepods.slice']);
    assert.equal(detectPodCgroupRoot(mount, 'not-there').how, 'the only pod cgroup root on the node');
    assert.throws(() => detectPodCgroupRoot(node('none', []), 'x'), /no kubelet pod cgroup \(kubepods, kubepods.slice or \*-kubepods.slice\) within two levels of .*nodeAgent.podCgroup/);
    assert.throws(() => detectPodCgroupRoot(join(base, 'absent'), 'x'), /cgroup-v2 mount .* does not exist/);
  });
});
