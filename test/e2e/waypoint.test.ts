import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminGet, applyText, awaitCondition, environ, eventually, expectConnections, fixture, inside, jsonLines, LabHarness, probe, requireRoot, type LabStatusJson } from './harness.js';

const WAYPOINT = 'apiVersion: ambit.dev/v1alpha1\nkind: Waypoint\nmetadata: { name: wp, namespace: wpt }\n';
const DENY_CLIENT = `apiVersion: ambit.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: deny-client, namespace: wpt }
spec:
  targetRefs: [{ kind: Waypoint, name: wp }]
  action: DENY
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/wpt/sa/client"] } }] }]
`;

/**
 * A Waypoint end to end in the lab: the controller runs it (Deployment,
 * Service, a pod the lab starts with a pod-bound token), a Service labelled
 * for it sends its traffic through it, its endpoints refuse everyone else
 * (no bypass by pod IP, across the fabric or beside the client), policy that
 * targets it is enforced there, it survives a crash, and taking the label
 * away restores the direct path.
 */
describe('waypoint', { timeout: 600_000 }, () => {
  const lab = new LabHarness();
  let st: LabStatusJson;
  let vip: string;
  const pod = (name: string) => `${st.pods.find((p) => p.namespace === 'wpt' && p.name === name)!.ip}:8080`;
  const waypoint = async () => (await lab.status()).components.find((c) => c.kind === 'waypoint');
  /** The waypoint's access-log lines (pino JSON in its pod's log). */
  const waypointAccess = async (): Promise<Record<string, unknown>[]> => {
    const c = await waypoint();
    if (!c) return [];
    return jsonLines<Record<string, unknown>>(c.log).filter((l) => l['component'] === 'waypoint.access');
  };
  const bind = (on: boolean) => lab.must(['lab', 'kubectl', 'label', 'service', 'web', '-n', 'wpt', on ? 'ambit.dev/use-waypoint=wp' : 'ambit.dev/use-waypoint-', '--overwrite']);

  before(async () => {
    requireRoot();
    await lab.must(['lab', 'up', '-f', fixture('waypoint.yaml'), '--nodes', '2']);
    st = await lab.status();
    vip = `${st.services.find((s) => s.namespace === 'wpt' && s.name === 'web')!.clusterIP}:80`;
    await expectConnections(lab, 'wpt/client', { allowed: [vip, pod('web-1'), pod('web-2')] });
  });

  after(async () => {
    await lab.ambit(['lab', 'down']);
  });

  it('runs a Waypoint as its proxies, with status that says so', async () => {
    await applyText(lab, WAYPOINT);
    assert.equal((await awaitCondition(lab, 'waypoints.ambit.dev', 'wpt', 'wp', 'Accepted')).status, 'True');
    const programmed = await awaitCondition(lab, 'waypoints.ambit.dev', 'wpt', 'wp', 'Programmed', (c) => c.status === 'True');
    assert.equal(programmed.message, '1 of 1 proxies ready.');
    const c = await waypoint();
    assert.ok(c?.pid, 'the waypoint is listed among the mesh components with its process');
    // It runs from its Deployment as a kubelet would run it: the token and the trust bundle it
    // used to connect are the files its volumes mount, the bundle from its own namespace.
    const env = environ(c.pid);
    assert.equal(env.AMBIT_CONTROLLER_TOKEN_FILE, '/var/run/secrets/ambit/tokens/controller-token');
    assert.equal(env.AMBIT_ROOT_CA_FILE, '/var/run/ambit/root-ca/root-cert.pem');
    assert.equal(env.AMBIT_CONTROLLER_TOKEN, undefined, 'no lab token');
    // The token is the waypoint's service account's, bound to its pod, for the controller's audience.
    const review = join(mkdtempSync(join(tmpdir(), 'ambit-e2e-')), 'review.json');
    writeFileSync(review, JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: readFileSync(inside(c.pid, env.AMBIT_CONTROLLER_TOKEN_FILE), 'utf8'), audiences: ['ambit-controller'] } }));
    const reviewed = JSON.parse(await lab.must(['lab', 'kubectl', 'create', '--raw', '/apis/authentication.k8s.io/v1/tokenreviews', '-f', review])) as { status: { authenticated?: boolean; user?: { username?: string; extra?: Record<string, string[]> } } };
    assert.equal(reviewed.status.authenticated, true);
    assert.equal(reviewed.status.user?.username, 'system:serviceaccount:wpt:wp');
    assert.match(reviewed.status.user?.extra?.['authentication.kubernetes.io/pod-name']?.[0] ?? '', /^wp-/);
    const bundle = JSON.parse(await lab.must(['lab', 'kubectl', 'get', 'configmap', 'ambit-root-ca', '-n', 'wpt', '-o', 'json'])) as { data: Record<string, string>; metadata: { ownerReferences: { kind: string; name: string }[] } };
    assert.deepEqual(bundle.metadata.ownerReferences.map((r) => `${r.kind}/${r.name}`), ['Waypoint/wp']);
    assert.equal(readFileSync(inside(c.pid, env.AMBIT_ROOT_CA_FILE), 'utf8'), bundle.data['root-cert.pem']);
    assert.throws(() => readFileSync(inside(c.pid, '/var/run/secrets/kubernetes.io/serviceaccount/token')), 'no API token');
    assert.ok(await eventually(async () => (await lab.ambit(['lab', 'exec', 'wpt/client', '--', 'true'])).code === 0), 'lab still answers');
  });

  it('carries the traffic of a Service bound to it, and the endpoints admit no one else', async () => {
    await bind(true);
    // Through the waypoint: both endpoints answer by the ClusterIP; neither by its own address.
    const seen = new Set<string>();
    assert.ok(
      await eventually(async () => {
        for (const r of await probe(lab, 'wpt/client', [vip, vip, vip, vip])) if (r.pod) seen.add(r.pod);
        return seen.size === 2;
      }, 20),
      `both endpoints answer through the waypoint (saw ${[...seen].join(', ')})`,
    );
    await expectConnections(lab, 'wpt/client', { allowed: [vip], refused: [pod('web-1'), pod('web-2')] });
    const reached = (l: Record<string, unknown>) =>
      (l['src'] as { principal?: string }).principal === 'cluster.local/ns/wpt/sa/client' && (l['dst'] as { service?: string }).service === 'web.wpt.svc.cluster.local' && l['result'] === 'ok';
    // Logs reach the file in batches, within a second.
    assert.ok(await eventually(async () => (await waypointAccess()).some(reached)), 'the waypoint logged the client reaching Service web');
    const web1 = pod('web-1').split(':')[0];
    const refusal = await lab.awaitAccessLine('node2', (l) => l.reporter === 'destination' && l.dst.ip === web1 && l.result === 'error');
    assert.match(String(refusal?.error), /serves Services bound to waypoint wpt\/wp: only its proxies \(spiffe:\/\/cluster\.local\/ns\/wpt\/sa\/wp\) may connect to it directly/);
    const admitted = await lab.awaitAccessLine('node2', (l) => l.reporter === 'destination' && l.dst.ip === web1 && l.result === 'ok' && l.src.principal === 'cluster.local/ns/wpt/sa/wp');
    assert.ok(admitted, 'web-1 is reached from the waypoint, as the waypoint');
  });

  it('enforces an AuthorizationPolicy that targets it, and says so', async () => {
    await applyText(lab, DENY_CLIENT);
    try {
      const enforced = await awaitCondition(lab, 'authorizationpolicies.ambit.dev', 'wpt', 'deny-client', 'Enforced', (c) => c.status === 'True');
      assert.equal(enforced.reason, 'Waypoint');
      await expectConnections(lab, 'wpt/client', { refused: [vip] });
      assert.ok(
        await eventually(async () => (await waypointAccess()).some((l) => String(l['error']).includes('denied by AuthorizationPolicy wpt/deny-client'))),
        'the waypoint logged the denial with the policy',
      );
    } finally {
      await applyText(lab, DENY_CLIENT, 'delete');
    }
    await expectConnections(lab, 'wpt/client', { allowed: [vip] });
  });

  it('reads HTTP/1.1 per request: L7 policy by method and path, 403 naming RBAC, request metrics', async () => {
    const curl = async (method: string, path: string, host = 'api', ...flags: string[]) => {
      const r = await lab.ambit(['lab', 'exec', 'wpt/client', '--', 'curl', '-s', '-m', '5', ...flags, '-X', method, '-w', '\n%{http_code}', `http://${host}.wpt${path}`], 30_000);
      const lines = r.stdout.trim().split('\n');
      return { code: lines.pop(), body: lines.join('\n').trim() };
    };
    const ok = await curl('POST', '/anything');
    assert.equal(ok.code, '200');
    assert.deepEqual(JSON.parse(ok.body), { pod: 'api-1', method: 'POST', url: '/anything', body: '' });
    const h2 = (path: string) => curl('GET', path, 'h2api', '--http2-prior-knowledge');
    const h2ok = await h2('/anything');
    assert.equal(h2ok.code, '200');
    assert.deepEqual(JSON.parse(h2ok.body), { pod: 'h2-1', version: '2.0', url: '/anything' });
    const policy = `apiVersion: ambit.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: get-public, namespace: wpt }
spec:
  targetRefs: [{ kind: Service, name: api }, { kind: Service, name: h2api }]
  action: ALLOW
  rules: [{ to: [{ operation: { methods: ["GET"], paths: ["/public/*"] } }] }]
`;
    await applyText(lab, policy);
    try {
      const accepted = await awaitCondition(lab, 'authorizationpolicies.ambit.dev', 'wpt', 'get-public', 'WaypointAccepted', (c) => c.status === 'True');
      assert.match(accepted.message, /enforces the L7 rules on each HTTP request/);
      assert.ok(await eventually(async () => (await curl('POST', '/public/x')).code === '403'), 'POST refused once the policy is in force');
      const denied = await curl('POST', '/public/x');
      assert.match(denied.body, /^RBAC: access denied \(no ALLOW AuthorizationPolicy matched\)$/);
      assert.equal((await curl('GET', '/private')).code, '403');
      assert.equal((await curl('GET', '/public/x')).code, '200');
      // HTTP/2 alike, request by request.
      assert.equal((await h2('/private')).code, '403');
      assert.equal((await h2('/public/y')).code, '200');
      const c = (await waypoint())!;
      const metrics = await adminGet(lab, c.admin, '/metrics');
      assert.match(metrics, /ambit_requests_total\{(?=[^}]*reporter="waypoint")(?=[^}]*destination_service="api\.wpt\.svc\.cluster\.local")(?=[^}]*response_code="403")(?=[^}]*response_flags="RBAC")[^}]*\} [1-9]/);
      assert.match(metrics, /ambit_request_duration_milliseconds_bucket\{[^}]*response_code="200"/);
    } finally {
      await applyText(lab, policy, 'delete');
    }
  });

  it('spec.for all: traffic addressed to a pod of a namespace labelled for it goes through it too', async () => {
    await applyText(lab, WAYPOINT.replace('namespace: wpt }', 'namespace: wpt }\nspec: { for: all }'));
    await lab.must(['lab', 'kubectl', 'label', 'namespace', 'wpt', 'ambit.dev/use-waypoint=wp', '--overwrite']);
    try {
      const api1 = `${st.pods.find((p) => p.name === 'api-1')!.ip}:8080`;
      const path = `/by-pod-ip-${Date.now()}`;
      const through = async () => {
        await lab.ambit(['lab', 'exec', 'wpt/client', '--', 'curl', '-s', '-m', '5', `http://${api1}${path}`], 30_000);
        return (await waypointAccess()).some((l) => l['path'] === path && l['response_code'] === 200);
      };
      assert.ok(await eventually(through, 20), `a request to ${api1} went through the waypoint`);
    } finally {
      await lab.must(['lab', 'kubectl', 'label', 'namespace', 'wpt', 'ambit.dev/use-waypoint-']);
      await applyText(lab, WAYPOINT);
    }
  });

  it('survives a crash: the lab restarts it and new connections go through again', async () => {
    const before = await waypoint();
    assert.ok(before?.pid);
    process.kill(before.pid, 'SIGKILL');
    assert.ok(await eventually(async () => ((await waypoint())?.restarts ?? 0) > before.restarts && (await waypoint())?.pid !== before.pid, 80), 'restarted');
    await expectConnections(lab, 'wpt/client', { allowed: [vip], refused: [pod('web-1')] });
  });

  it('rolls without refusing a connection: lab restart waypoint (the new proxy first, then the old one drains)', async () => {
    const before = await waypoint();
    const [rate] = await Promise.all([
      lab.ambit(['lab', 'exec', 'wpt/client', '--', 'node', fixture('rate.mjs'), vip.split(':')[0]!, '80', '50', '12'], 120_000).then((r) => JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { attempted: number; served: number; errors: Record<string, number> }),
      new Promise((r) => setTimeout(r, 2000)).then(() => lab.must(['lab', 'restart', 'waypoint', 'wpt/wp'])),
    ]);
    const after = await waypoint();
    assert.notEqual(after?.pid, before?.pid, 'a new proxy serves');
    assert.ok(rate.attempted >= 500, `attempted ${rate.attempted}`);
    assert.deepEqual([rate.served, rate.errors], [rate.attempted, {}], 'every connection across the roll was served');
  });

  it('taking the label away restores the direct path for new connections', async () => {
    await bind(false);
    await expectConnections(lab, 'wpt/client', { allowed: [vip, pod('web-1'), pod('web-2')] });
    const through = (await waypointAccess()).length;
    await expectConnections(lab, 'wpt/client', { allowed: [vip, vip] });
    await new Promise((r) => setTimeout(r, 1500)); // logs reach the file within a second
    assert.equal((await waypointAccess()).length, through, 'nothing more went through the waypoint');
  });

  it('deleting the Waypoint removes its proxies, and the trust bundle beside them', async () => {
    await applyText(lab, WAYPOINT, 'delete');
    assert.ok(await eventually(async () => (await waypoint()) === undefined, 80), 'the waypoint pod is gone');
    const deploy = await lab.ambit(['lab', 'kubectl', 'get', 'deployment', 'wp', '-n', 'wpt']);
    assert.notEqual(deploy.code, 0, 'its Deployment is gone');
    assert.ok(await eventually(async () => (await lab.ambit(['lab', 'kubectl', 'get', 'configmap', 'ambit-root-ca', '-n', 'wpt'])).code !== 0), 'the trust bundle copy is gone');
    await expectConnections(lab, 'wpt/client', { allowed: [vip, pod('web-1')] });
  });
});
