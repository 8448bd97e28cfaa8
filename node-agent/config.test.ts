import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    assert.equal(cfg.fastPath, true);
    assert.equal(loadAgentConfig({ ...base, AMBIT_FAST_PATH: 'false' }, '/repo').fastPath, false);
    assert.ok(Object.isFrozen(cfg));
  });

  it('verifies the controller by TLS unless told otherwise, against the mounted bundle, as its Service and service account', () => {
    const cfg = loadAgentConfig(base, '/repo');
    assert.equal(cfg.insecureControlPlane, false);
    assert.equal(cfg.rootCaFile, '/var/run/ambit/root-ca/root-cert.pem');
    assert.equal(cfg.controllerAddress, 'ambit-controller.ambit-system.svc:15010');
    assert.equal(cfg.controllerServerName, 'ambit-controller.ambit-system.svc');
    assert.equal(cfg.controllerIdentity, 'spiffe://cluster.local/ns/ambit-system/sa/ambit-controller');
    // The lab dials an IP: the name to verify stays the Service's.
    const lab = loadAgentConfig({ ...base, AMBIT_CONTROLLER_ADDRESS: '10.200.0.1:15010', AMBIT_TRUST_DOMAIN: 'lab.local' }, '/repo');
    assert.equal(lab.controllerServerName, 'ambit-controller.ambit-system.svc');
    assert.equal(lab.controllerIdentity, 'spiffe://lab.local/ns/ambit-system/sa/ambit-controller');
    const named = loadAgentConfig({ ...base, AMBIT_CONTROLLER_ADDRESS: 'ctl.mesh.svc:15010', AMBIT_INSECURE_CONTROL_PLANE: 'true' }, '/repo');
    assert.equal(named.controllerServerName, 'ctl.mesh.svc');
    assert.equal(named.insecureControlPlane, true);
  });

  it('takes the pod cgroup root as set, or detects it below the cgroup mount by its own pod', () => {
    assert.equal(loadAgentConfig(base, '/repo').podCgroupSource, 'set by AMBIT_POD_CGROUP_ROOT');
    const mount = mkdtempSync(join(tmpdir(), 'ambit-cfg-cg-'));
    try {
      mkdirSync(join(mount, 'kubepods.slice', 'kubepods-besteffort.slice', 'kubepods-besteffort-poda_1.slice'), { recursive: true });
      const cfg = loadAgentConfig({ ...base, AMBIT_POD_CGROUP_ROOT: '', AMBIT_CGROUP_MOUNT: mount, AMBIT_POD_UID: 'a-1' }, '/repo');
      assert.equal(cfg.podCgroupRoot, join(mount, 'kubepods.slice'));
      assert.match(cfg.podCgroupSource, /^detected: the kubelet's systemd driver layout/);
    } finally {
      rmSync(mount, { recursive: true, force: true });
    }
  });

  it('names the missing or malformed setting', () => {
    assert.throws(() => loadAgentConfig({ ...base, AMBIT_NODE_NAME: '' }, '/r'), /AMBIT_NODE_NAME is not set/);
    assert.throws(() => loadAgentConfig({ ...base, AMBIT_REDIRECT_IP: 'ten' }, '/r'), /AMBIT_REDIRECT_IP must be an IPv4 address/);
    assert.throws(() => loadAgentConfig({ ...base, AMBIT_INSECURE_CONTROL_PLANE: 'yes' }, '/r'), /AMBIT_INSECURE_CONTROL_PLANE must be true or false/);
    assert.throws(() => loadAgentConfig({ ...base, AMBIT_CONTROLLER_IDENTITY: 'ambit-controller' }, '/r'), /AMBIT_CONTROLLER_IDENTITY/);
    assert.throws(() => loadAgentConfig({ ...base, AMBIT_FAST_PATH: 'off' }, '/r'), /AMBIT_FAST_PATH must be true or false/);
  });
});
