import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBpffs, ensureCgroup2, findMount } from '../../lab/host/cgroup.js';
import { checkRedirectPrerequisites } from './preflight.js';

// Runs as root, like the agent (the capability check comes first otherwise).
describe('redirect prerequisites', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ambit-preflight-'));
  // A node running the agent has both mounted; a fresh test machine may not
  // until a lab boots, and test order must not matter.
  before(async () => {
    await ensureCgroup2();
    await ensureBpffs();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names a missing bpf filesystem', () => {
    assert.throws(
      () => checkRedirectPrerequisites({ pinDir: join(dir, 'pins'), cgroupPath: dir, objectPaths: [] }),
      /no bpf filesystem above .*mount -t bpf/,
    );
  });

  it('names a folder that is not cgroup v2', () => {
    assert.throws(
      () => checkRedirectPrerequisites({ pinDir: '/sys/fs/bpf/ambit-preflight-test', cgroupPath: dir, objectPaths: [] }),
      /is not a cgroup-v2 directory/,
    );
  });

  it('names a missing eBPF object and how to build it', () => {
    const cg2 = findMount('cgroup2')!;
    assert.throws(
      () => checkRedirectPrerequisites({ pinDir: '/sys/fs/bpf/x', cgroupPath: cg2, objectPaths: [join(dir, 'missing.bpf.o')] }),
      /missing: build it with 'make -C bpf'/,
    );
  });
});
