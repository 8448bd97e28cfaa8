import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixture, LabHarness, requireRoot } from './harness.js';

interface Report {
  mode: string;
  target: { kind: string; name: string };
  checks: { id: string; status: string; scope: string; message: string; hint?: string }[];
  ok: boolean;
}

/**
 * `ambit check` against a real lab, found the way `ambit lab kubectl` finds
 * it (AMBIT_LAB, no kubeconfig named): every post-install check that applies
 * to the lab passes, and the two that read the chart's Deployment and
 * DaemonSet say they do not apply (the lab runs those components as
 * processes). A wrong namespace fails with exit code 1.
 */
describe('ambit check against the lab', { timeout: 300_000 }, () => {
  const lab = new LabHarness();
  // A kubeconfig named in the environment would win over the lab (the documented rule).
  const savedKubeconfig = process.env['KUBECONFIG'];

  before(async () => {
    requireRoot();
    delete process.env['KUBECONFIG'];
    await lab.must(['lab', 'up', '-f', fixture('fastpath.yaml'), '--nodes', '1']);
  });
  after(async () => {
    await lab.ambit(['lab', 'down']);
    if (savedKubeconfig !== undefined) process.env['KUBECONFIG'] = savedKubeconfig;
  });

  it('passes the post-install checks that apply to the lab, and says which do not', async () => {
    const r = await lab.ambit(['check', '-o', 'json'], 60_000);
    const report = JSON.parse(r.stdout) as Report;
    const status = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    assert.equal(report.target.kind, 'lab');
    assert.equal(report.target.name, lab.name);
    for (const id of ['api-server', 'ambit-crds', 'gateway-api-crds', 'controller-ready', 'trust-root', 'agent-on-every-node', 'config-acked', 'waypoints-programmed']) {
      assert.equal(status[id]?.status, 'pass', `${id}: ${status[id]?.message} ${status[id]?.hint ?? ''}`);
    }
    for (const id of ['controller-deployment', 'agent-daemonset']) {
      assert.equal(status[id]?.status, 'skip', id);
      assert.match(status[id]!.message, /not from the chart/);
    }
    assert.equal(r.code, 0, r.stderr);
    assert.equal(report.ok, true);
  });

  it('prints one line per check and a summary for people', async () => {
    const r = await lab.ambit(['check'], 60_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^ambit check: lab ${lab.name} \\(http://127\\.0\\.0\\.1:\\d+\\), namespace ambit-system\n`));
    assert.match(r.stdout, /  √ config-acked: 1 agent ACKed the latest config\n/);
    assert.match(r.stdout, /Status: 8 passed, 0 warnings, 0 failed, 2 not applicable\n$/);
  });

  it('--pre labels the node-local checks and skips the permission check the lab cannot answer', async () => {
    const r = await lab.ambit(['check', '--pre', '-o', 'json'], 60_000);
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(report.mode, 'pre');
    assert.ok(report.checks.filter((c) => c.scope === 'node').length >= 5);
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    assert.equal(byId['api-server']?.status, 'pass');
    assert.equal(byId['install-permissions']?.status, 'skip');
    // The node-local verdicts describe this machine (its cgroup layout may fail): the exit code follows them.
    assert.equal(r.code, report.checks.some((c) => c.status === 'fail') ? 1 : 0);
  });

  it('exits 1 when a check fails: nothing installed in another namespace', async () => {
    const r = await lab.ambit(['check', '-n', 'elsewhere'], 60_000);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /× trust-root: no ConfigMap ambit-root-ca in elsewhere/);
  });
});
