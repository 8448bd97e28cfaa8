import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, fixture, LabHarness, requireRoot } from './harness.js';

interface Status {
  healthy: boolean;
  problems: string[];
  proxies: { kind: string; node: string; waypoint?: { namespace: string; name: string }; types: Record<string, { state: string }>; certExpiry?: string }[];
}
interface Explanation {
  verdict: string;
  waypoint: { name: string } | null;
  steps: { at: string; allowed: boolean; policies?: { policy: string; matches: boolean; decisive: boolean }[]; answer?: string }[];
}

/**
 * The CLI against a real lab (2 nodes): a Waypoint made with `ambit waypoint apply
 * --enroll-namespace`, `status` showing every agent and its proxy SYNCED, `config-dump` of a
 * node, a pod and the waypoint, `policy explain` agreeing with real traffic (curl gets 403
 * where it says DENY), then `waypoint list` and `delete`. AMBIT_E2E_LAB names the lab (a
 * machine shared with other labs); otherwise a fresh name.
 */
describe('the ambit CLI against the lab', { timeout: 600_000 }, () => {
  const lab = new LabHarness();
  const savedKubeconfig = process.env['KUBECONFIG'];
  const json = async <T>(args: string[]): Promise<{ code: number; value: T; stderr: string }> => {
    const r = await lab.ambit([...args, '-o', 'json'], 60_000);
    try {
      return { code: r.code, value: JSON.parse(r.stdout) as T, stderr: r.stderr };
    } catch {
      throw new Error(`ambit ${args.join(' ')} printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
  };
  const curl = (method: string) => lab.ambit(['lab', 'exec', 'clit/client', '--', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', method, '--max-time', '10', 'http://web.clit/'], 30_000);

  before(async () => {
    requireRoot();
    // The lab is found as `ambit lab` finds it: no kubeconfig named.
    delete process.env['KUBECONFIG'];
    await lab.must(['lab', 'up', '-f', fixture('cli.yaml'), '--nodes', '2']);
  });
  after(async () => {
    await lab.ambit(['lab', 'down']);
    if (savedKubeconfig !== undefined) process.env['KUBECONFIG'] = savedKubeconfig;
  });

  it('waypoint apply --enroll-namespace makes a Waypoint the controller programs, bound to the Service', async () => {
    const r = await lab.ambit(['waypoint', 'apply', '-n', 'clit', '--enroll-namespace']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'waypoint clit/waypoint created\nnamespace clit labelled ambit.dev/use-waypoint=waypoint\n');
    let rows: { name: string; programmed: string; services: string[] }[] = [];
    const programmed = await eventually(async () => {
      const l = await json<typeof rows>(['waypoint', 'list', '-n', 'clit']);
      rows = l.value;
      return l.code === 0 && rows[0]?.programmed === 'True';
    }, 120, 500);
    assert.ok(programmed, JSON.stringify(rows));
    assert.deepEqual(rows[0]!.services, ['clit/web']);
  });

  it('status shows every agent and the waypoint proxy SYNCED on every type, with certificates', async () => {
    let st: Status | undefined;
    let code = -1;
    const synced = await eventually(async () => {
      const r = await json<Status>(['status']);
      [st, code] = [r.value, r.code];
      return r.code === 0 && st.proxies.some((p) => p.kind === 'waypoint');
    }, 60, 500);
    assert.ok(synced, `exit ${code}: ${JSON.stringify(st?.problems)}`);
    assert.deepEqual(st!.proxies.filter((p) => p.kind === 'node-agent').map((p) => p.node).sort(), ['node1', 'node2']);
    for (const p of st!.proxies) {
      assert.ok(Object.values(p.types).every((t) => t.state === 'SYNCED'), JSON.stringify(p));
      assert.ok(p.certExpiry && Date.parse(p.certExpiry) > Date.now(), `${p.kind} ${p.node}: ${p.certExpiry}`);
    }
    const human = await lab.ambit(['status'], 60_000);
    assert.match(human.stdout, /^ambit status: lab /);
    assert.match(human.stdout, /waypoint waypoint/);
  });

  it('config-dump shows the Service on a node, the pod\'s slice, and the waypoint\'s policies', async () => {
    const node = await json<{ services: { namespace: string; name: string; waypoint: { name: string } | null }[] }>(['config-dump', 'node1']);
    assert.equal(node.code, 0, node.stderr);
    assert.equal(node.value.services.find((s) => s.namespace === 'clit' && s.name === 'web')?.waypoint?.name, 'waypoint');
    const pod = await json<{ workloads: { name: string }[]; services: { name: string }[]; guardedBy: { name: string } | null; mtls: { mode: string } }>(['config-dump', 'clit/web-1']);
    assert.deepEqual(pod.value.workloads.map((w) => w.name), ['web-1']);
    assert.deepEqual(pod.value.services.map((s) => s.name), ['web']);
    assert.equal(pod.value.guardedBy?.name, 'waypoint');
    const wp = await json<{ services: { name: string }[]; authorizationPolicies: { name: string }[] }>(['config-dump', 'waypoint', 'clit/waypoint']);
    assert.deepEqual(wp.value.services.map((s) => s.name), ['web']);
    assert.deepEqual(wp.value.authorizationPolicies.map((p) => p.name), ['no-posts']);
    const human = await lab.ambit(['config-dump', 'waypoint', 'clit/waypoint'], 60_000);
    assert.match(human.stdout, /AUTHORIZATION POLICIES\nNAMESPACE\/NAME\s+ACTION/);
    const missing = await lab.ambit(['config-dump', 'nonode'], 60_000);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /no node agent on node "nonode"/);
  });

  it('policy explain agrees with real traffic: GET allowed (200), POST denied at the waypoint (403)', async () => {
    const get = await json<Explanation>(['policy', 'explain', 'clit/client', 'clit/web', '--method', 'GET']);
    assert.equal(get.code, 0, JSON.stringify(get.value));
    assert.equal(get.value.verdict, 'ALLOW');
    assert.equal(get.value.waypoint?.name, 'waypoint');
    assert.equal((await curl('GET')).stdout, '200');

    const post = await json<Explanation>(['policy', 'explain', 'clit/client', 'web.clit:80', '--method', 'POST']);
    assert.equal(post.code, 1);
    assert.equal(post.value.verdict, 'DENY');
    const at = post.value.steps.find((s) => s.at === 'waypoint')!;
    assert.deepEqual(at.policies?.map((p) => [p.policy, p.matches, p.decisive]), [['clit/no-posts', true, true]]);
    assert.match(at.answer ?? '', /^HTTP 403/);
    assert.equal((await curl('POST')).stdout, '403');

    const human = await lab.ambit(['policy', 'explain', 'clit/client', 'clit/web', '--method', 'POST'], 60_000);
    assert.match(human.stdout, /=> DENY  clit\/no-posts: matches \(decides\)/);
    assert.match(human.stdout, /Verdict: DENY: /);
  });

  it('waypoint delete removes it and un-enrolls the namespace; list is then empty', async () => {
    const r = await lab.ambit(['waypoint', 'delete', '-n', 'clit']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /namespace clit: label ambit.dev\/use-waypoint removed/);
    const l = await json<unknown[]>(['waypoint', 'list', '-n', 'clit']);
    assert.deepEqual(l.value, []);
  });
});
