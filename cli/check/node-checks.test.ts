import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { BPF_FS_MAGIC, CGROUP2_SUPER_MAGIC } from '../../node-agent/bpf/preflight.js';
import { NODE_CHECKS, parseKernelRelease } from './node-checks.js';
import { BPF_MAP_TYPE, BPF_PROG_TYPE, type BpfProbe, type NodeProbe } from './node-probe.js';
import type { CheckContext, Outcome } from './types.js';

const TMPFS_MAGIC = 0x01021994;

/** A healthy 6.1 node; each test breaks one thing. */
function machine(over: Partial<NodeProbe> = {}, bpf: Partial<BpfProbe> = {}): NodeProbe {
  const fs: Record<string, number> = { '/sys/fs/bpf': BPF_FS_MAGIC, '/sys/fs/cgroup': CGROUP2_SUPER_MAGIC };
  return {
    hostname: () => 'node-a',
    kernelRelease: () => '6.1.0-18-amd64',
    exists: (p) => p === '/sys/kernel/btf/vmlinux',
    fsType: (p) => fs[p],
    bpf: () => ({ progType: () => 1, mapType: () => 1, createMap: () => 0, ...bpf }),
    ...over,
  };
}

async function run(id: string, node: NodeProbe): Promise<Outcome> {
  const check = NODE_CHECKS.find((c) => c.id === id)!;
  const ctx = { node, kc: new KubeConfig(), target: { kind: 'kubeconfig', name: 'x', server: 'x' }, namespace: 'ambit-system', now: Date.now } as unknown as CheckContext;
  return check.run(ctx);
}

describe('ambit check --pre: node-local checks', () => {
  it('passes every check on a healthy machine', async () => {
    for (const c of NODE_CHECKS) assert.equal((await run(c.id, machine())).status, 'pass', c.id);
  });

  it('reads the kernel version: fail below 5.8, warn below 5.14', async () => {
    assert.deepEqual(parseKernelRelease('5.10.0-28-cloud-amd64'), [5, 10]);
    assert.equal(parseKernelRelease('weird'), undefined);
    const old = await run('kernel-version', machine({ kernelRelease: () => '5.4.0-150-generic' }));
    assert.equal(old.status, 'fail');
    assert.match(old.message, /older than 5\.8/);
    assert.ok(old.hint);
    assert.equal((await run('kernel-version', machine({ kernelRelease: () => '5.10.0' }))).status, 'warn');
    assert.equal((await run('kernel-version', machine({ kernelRelease: () => '5.14.0' }))).status, 'pass');
    assert.equal((await run('kernel-version', machine({ kernelRelease: () => 'unknown' }))).status, 'warn');
  });

  it('warns without kernel BTF (the fast path stays off), fails without bpffs', async () => {
    assert.equal((await run('kernel-btf', machine({ exists: () => false }))).status, 'warn');
    const noBpffs = await run('bpffs', machine({ fsType: (p) => (p === '/sys/fs/bpf' ? TMPFS_MAGIC : CGROUP2_SUPER_MAGIC) }));
    assert.equal(noBpffs.status, 'fail');
    assert.match(noBpffs.hint!, /mount -t bpf bpf \/sys\/fs\/bpf/);
    assert.match((await run('bpffs', machine({ fsType: () => undefined }))).message, /does not exist/);
  });

  it('fails a hybrid cgroup hierarchy and says so', async () => {
    const hybrid = await run('cgroup-v2', machine({ fsType: (p) => ({ '/sys/fs/cgroup': TMPFS_MAGIC, '/sys/fs/cgroup/unified': CGROUP2_SUPER_MAGIC })[p] }));
    assert.equal(hybrid.status, 'fail');
    assert.match(hybrid.message, /hybrid/);
    assert.match(hybrid.hint!, /unified_cgroup_hierarchy/);
  });

  it('tells a refused BPF map (privilege, warn) from a kernel without BPF (fail)', async () => {
    assert.equal((await run('bpf-map-create', machine({}, { createMap: () => -constants.errno.EPERM }))).status, 'warn');
    const nosys = await run('bpf-map-create', machine({}, { createMap: () => -constants.errno.ENOSYS }));
    assert.equal(nosys.status, 'fail');
    assert.match(nosys.message, /ENOSYS/);
    assert.equal((await run('bpf-map-create', machine({ bpf: () => 'libbpf.so.1 cannot be loaded' }))).status, 'warn');
  });

  it('fails a missing required program or map type, warns a missing fast path', async () => {
    const noSockAddr = await run('bpf-features', machine({}, { progType: (t) => (t === BPF_PROG_TYPE.CGROUP_SOCK_ADDR ? 0 : 1) }));
    assert.equal(noSockAddr.status, 'fail');
    assert.match(noSockAddr.message, /cgroup_sock_addr/);
    const noSkStorage = await run('bpf-features', machine({}, { mapType: (t) => (t === BPF_MAP_TYPE.SK_STORAGE ? 0 : 1) }));
    assert.equal(noSkStorage.status, 'fail');
    const noSockhash = await run('bpf-features', machine({}, { mapType: (t) => (t === BPF_MAP_TYPE.SOCKHASH ? 0 : 1) }));
    assert.equal(noSockhash.status, 'warn');
    assert.match(noSockhash.message, /fast path/);
    const unprivileged = await run('bpf-features', machine({}, { progType: () => -constants.errno.EPERM }));
    assert.equal(unprivileged.status, 'warn');
    assert.match(unprivileged.hint!, /root/);
  });
});
