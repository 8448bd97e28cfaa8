import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadAgentConfig } from './config.js';

describe('agent config', () => {
  const base = { AMBIT_NODE_NAME: 'n1', AMBIT_POD_CGROUP_ROOT: '/sys/fs/cgroup/kubepods', AMBIT_REDIRECT_IP: '10.244.1.1', AMBIT_NODE_IP: '10.200.0.10' };

  it('parses the environment once into a frozen object with defaults', () => {
    const cfg = loadAgentConfig(base, '/repo');
    assert.equal(cfg.nodeName, 'n1');
    assert.equal(cfg.outboundPort, 15001);
    assert.equal(cfg.adminPort, 15020);
    assert.equal(cfg.bpfObjectDir, '/repo/bpf/build');
    assert.equal(cfg.detachOnExit, false);
    assert.ok(Object.isFrozen(cfg));
  });

  it('names the missing or malformed setting', () => {
    assert.throws(() => loadAgentConfig({ ...base, AMBIT_NODE_NAME: '' }, '/r'), /AMBIT_NODE_NAME is not set/);
    assert.throws(() => loadAgentConfig({ ...base, AMBIT_REDIRECT_IP: 'ten' }, '/r'), /AMBIT_REDIRECT_IP must be an IPv4 address/);
  });
});
