import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  adminGet,
  applyText,
  eventually,
  fixture,
  inLabNetns,
  LabHarness,
  load,
  requireRoot,
  sleep,
  type LabStatusJson,
} from './harness.js';

/**
 * The secure L4 mesh end to end: mTLS between meshed pods (proved on the
 * wire), identities in metrics and logs, L4 AuthorizationPolicy,
 * PeerAuthentication, the CA's refusals, a controller outage and certificate
 * rotation under load. Certificates are short-lived here (60 s, checked every
 * second) so rotation happens during the run.
 */
describe('secure L4 mesh', { timeout: 900_000 }, () => {
  const lab = new LabHarness();
  let st: LabStatusJson;
  const pod = (ns: string, prefix: string) => st.pods.filter((p) => p.namespace === ns && p.name.startsWith(prefix));
  const webOn = (node: string) => pod('shop', 'web-').find((p) => p.node === node)!;
  const agent = (node: string) => st.components.find((c) => c.kind === 'node-agent' && c.node === node)!;
  const webUrl = 'http://web.shop/';

  before(async () => {
    requireRoot();
    process.env.AMBIT_CERT_TTL = '60s';
    process.env.AMBIT_CERT_CHECK_INTERVAL = '1s';
    try {
      await lab.must(['lab', 'up', '-f', fixture('secure.yaml'), '--nodes', '2']);
    } finally {
      delete process.env.AMBIT_CERT_TTL;
      delete process.env.AMBIT_CERT_CHECK_INTERVAL;
    }
    st = await lab.status();
    assert.ok(webOn('node1') && webOn('node2'), 'web runs on both nodes');
  });

  after(async () => {
    await lab.ambit(['lab', 'down']);
  });

  it('carries same-node and cross-node calls through a ClusterIP', async () => {
    const r = await load(lab, 'shop/frontend', webUrl, 20, 2);
    assert.deepEqual([r.failed, r.errors], [0, []]);
    assert.equal(r.pods.length, 2, `both replicas answered: ${r.pods.join(', ')}`);
  });

  it('is mutual TLS on the wire between nodes, while plaintext from outside the mesh is visible', async () => {
    // Capture node1's fabric link while frontend (meshed, node1) calls the
    // web pod on node2, then while outsider (not meshed, node2) calls the one on node1.
    const capture = async (client: string, target: string) => {
      const tcpdump = spawn('nsenter', [`--net=/run/netns/ambit-${lab.name}-node1`, 'tcpdump', '-i', 'eth0', '-n', '-A', '-s0', '-l', 'tcp'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let text = '';
      tcpdump.stdout.on('data', (d: Buffer) => (text += d.toString('latin1')));
      await sleep(500);
      const r = await load(lab, client, `http://${target}:8080/`, 3, 1);
      await sleep(300);
      tcpdump.kill('SIGTERM');
      await new Promise((res) => tcpdump.once('exit', res));
      return { r, text };
    };
    const meshed = await capture('shop/frontend', webOn('node2').ip);
    assert.equal(meshed.r.ok, 3);
    assert.match(meshed.text, /\.15008[: ]/, 'traffic went to the HBONE port');
    assert.doesNotMatch(meshed.text, /plaintext-visible-marker/, 'no response body in the clear');
    assert.doesNotMatch(meshed.text, /GET \/ HTTP\/1\.1/, 'no request in the clear');
    assert.doesNotMatch(meshed.text, /> 10\.244\.2\.\d+\.8080:/, 'nothing sent to the pod port across the fabric');

    const plain = await capture('outside/outsider', webOn('node1').ip);
    assert.equal(plain.r.ok, 3, 'PERMISSIVE (the default) admits the plaintext client');
    assert.match(plain.text, /plaintext-visible-marker/, 'the control: the capture does see plaintext');
  });

  it('names both identities in metrics and access logs', async () => {
    await load(lab, 'shop/frontend', webUrl, 4, 1);
    const metrics = await adminGet(lab, agent('node1').admin, '/metrics');
    const opened = metrics.split('\n').filter((l) => l.startsWith('ambit_tcp_connections_opened_total{'));
    const line = opened.find((l) => l.includes('reporter="source"') && l.includes('source_principal="cluster.local/ns/shop/sa/frontend"'));
    assert.ok(line, `a source-reported series for frontend:\n${opened.join('\n')}`);
    assert.match(line, /destination_principal="cluster.local\/ns\/shop\/sa\/web"/);
    assert.match(line, /connection_security_policy="mutual_tls"/);
    assert.match(line, /destination_service="web\.shop\.svc\.cluster\.local"/);
    const node2 = await adminGet(lab, agent('node2').admin, '/metrics');
    assert.match(node2, /ambit_tcp_connections_opened_total\{reporter="destination",source_workload="frontend",source_workload_namespace="shop",source_principal="cluster\.local\/ns\/shop\/sa\/frontend"/);
    const log = readFileSync(agent('node2').log, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"node-agent.access"') && l.includes('"reporter":"destination"'))
      .map((l) => JSON.parse(l) as { src: { principal: string }; dst: { principal: string }; security: string; bytes_sent: number });
    const entry = log.find((l) => l.src.principal === 'cluster.local/ns/shop/sa/frontend');
    assert.ok(entry, 'the destination agent logged the frontend call');
    assert.equal(entry.dst.principal, 'cluster.local/ns/shop/sa/web');
    assert.equal(entry.security, 'mutual_tls');
    assert.ok(entry.bytes_sent > 0);
  });

  it('a DENY policy blocks its principals and nobody else', async () => {
    await applyText(
      lab,
      `apiVersion: ambit.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: deny-intruder, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  action: DENY
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/shop/sa/intruder"] } }] }]
`,
    );
    assert.ok(await eventually(async () => (await load(lab, 'shop/intruder', webUrl, 4, 1)).ok === 0), 'intruder is denied on both nodes');
    const friend = await load(lab, 'shop/frontend', webUrl, 6, 2);
    assert.equal(friend.failed, 0);
    await applyText(lab, 'apiVersion: ambit.dev/v1alpha1\nkind: AuthorizationPolicy\nmetadata: { name: deny-intruder, namespace: shop }\n', 'delete');
    assert.ok(await eventually(async () => (await load(lab, 'shop/intruder', webUrl, 2, 1)).failed === 0), 'allowed again once the policy is gone');
  });

  it('an ALLOW policy admits only its principals', async () => {
    await applyText(
      lab,
      `apiVersion: ambit.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: only-frontend, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  action: ALLOW
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/shop/sa/frontend"] } }], to: [{ operation: { ports: ["8080"] } }] }]
`,
    );
    assert.ok(await eventually(async () => (await load(lab, 'shop/intruder', webUrl, 4, 1)).ok === 0), 'intruder is not allowed');
    assert.equal((await load(lab, 'outside/outsider', webUrl, 2, 1)).ok, 0, 'a plaintext client has no principal');
    assert.equal((await load(lab, 'shop/frontend', webUrl, 6, 2)).failed, 0, 'frontend is');
    await applyText(lab, 'apiVersion: ambit.dev/v1alpha1\nkind: AuthorizationPolicy\nmetadata: { name: only-frontend, namespace: shop }\n', 'delete');
    assert.ok(await eventually(async () => (await load(lab, 'shop/intruder', webUrl, 2, 1)).failed === 0));
  });

  it('STRICT refuses a client outside the mesh; PERMISSIVE admits it', async () => {
    const pa = (mode: string) => `apiVersion: ambit.dev/v1alpha1
kind: PeerAuthentication
metadata: { name: default, namespace: shop }
spec: { mtls: { mode: ${mode} } }
`;
    await applyText(lab, pa('STRICT'));
    assert.ok(await eventually(async () => (await load(lab, 'outside/outsider', webUrl, 4, 1)).ok === 0), 'STRICT: plaintext refused');
    assert.equal((await load(lab, 'shop/frontend', webUrl, 6, 2)).failed, 0, 'mesh traffic unaffected');
    await applyText(lab, pa('PERMISSIVE'));
    assert.ok(await eventually(async () => (await load(lab, 'outside/outsider', webUrl, 4, 1)).failed === 0), 'PERMISSIVE: plaintext admitted');
  });

  it("refuses a CSR for a service account with no pod on the agent's node", async () => {
    const environ = readFileSync(`/proc/${agent('node1').pid}/environ`, 'utf8').split('\0');
    const token = environ.find((e) => e.startsWith('AMBIT_CONTROLLER_TOKEN='))!.split('=')[1]!;
    const csr = async (id: string) =>
      JSON.parse((await inLabNetns(lab, 'node1', [process.execPath, fixture('csr-probe.mjs'), '10.200.0.1:15010', token, id])).stdout) as { ok: boolean; code?: string };
    assert.deepEqual(await csr('spiffe://cluster.local/ns/shop/sa/frontend'), { ok: true });
    const foreign = await csr('spiffe://cluster.local/ns/kube-system/sa/default');
    assert.deepEqual([foreign.ok, foreign.code], [false, 'PERMISSION_DENIED']);
    const wrongToken = JSON.parse(
      (await inLabNetns(lab, 'node1', [process.execPath, fixture('csr-probe.mjs'), '10.200.0.1:15010', 'forged', 'spiffe://cluster.local/ns/shop/sa/frontend'])).stdout,
    ) as { ok: boolean; code?: string };
    assert.deepEqual([wrongToken.ok, wrongToken.code], [false, 'UNAUTHENTICATED']);
  });

  it('refuses an HBONE client certificate from another CA, and keeps serving', async () => {
    const r = await inLabNetns(lab, 'node1', [
      process.execPath,
      fixture('foreign-ca-probe.mjs'),
      `${st.nodes[1]!.ip}:15008`,
      `${webOn('node2').ip}:8080`,
      'spiffe://cluster.local/ns/shop/sa/frontend',
    ]);
    const out = JSON.parse(r.stdout) as { ok: boolean; code?: string };
    assert.deepEqual([out.ok, out.code], [false, 'AMBIT_ERR_HBONE_TLS'], r.stdout + r.stderr);
    // Garbage on the HBONE and inbound ports does not disturb anything.
    await inLabNetns(lab, 'node1', [process.execPath, '-e', `const n=require('net');for(const p of [15008,15006]){const s=n.connect(p,'${st.nodes[1]!.ip}',()=>s.end('GET / HTTP/1.1\\r\\n\\r\\n\\x16\\x03garbage'));s.on('error',()=>{})}`]);
    assert.equal((await load(lab, 'shop/frontend', webUrl, 6, 2)).failed, 0);
  });

  it('keeps traffic flowing while the controller is gone', async () => {
    const controller = st.components.find((c) => c.kind === 'controller')!;
    process.kill(controller.pid!, 'SIGSTOP');
    try {
      const r = await load(lab, 'shop/frontend', webUrl, 20, 2);
      assert.deepEqual([r.failed, r.errors], [0, []], 'new connections work on the last good config');
    } finally {
      process.kill(controller.pid!, 'SIGCONT');
    }
  });

  it('survives garbage on the controller port and a controller crash: agents reconnect and take new config', async () => {
    await inLabNetns(lab, 'node1', [process.execPath, '-e', `const s=require('net').connect(15010,'10.200.0.1',()=>s.end('PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n'+'\\x00'.repeat(64)+'garbage'));s.on('error',()=>{})`]);
    const connects = async () =>
      (JSON.parse(await adminGet(lab, agent('node1').admin, '/config_dump')) as { controller: { connects: number; state: string } }).controller;
    const before = await connects();
    const controller = (await lab.status()).components.find((c) => c.kind === 'controller')!;
    process.kill(controller.pid!, 'SIGKILL');
    // Traffic keeps flowing while it restarts.
    assert.equal((await load(lab, 'shop/frontend', webUrl, 10, 2)).failed, 0);
    assert.ok(
      await eventually(async () => {
        const c = await connects();
        return c.state === 'connected' && c.connects > before.connects;
      }, 80),
      'the agent reconnected to the restarted controller',
    );
    // The restarted controller (same persisted CA) pushes new policy.
    await applyText(
      lab,
      `apiVersion: ambit.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: deny-intruder-again, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  action: DENY
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/shop/sa/intruder"] } }] }]
`,
    );
    assert.ok(await eventually(async () => (await load(lab, 'shop/intruder', webUrl, 2, 1)).ok === 0), 'new policy enforced');
    assert.equal((await load(lab, 'shop/frontend', webUrl, 6, 2)).failed, 0, 'existing certificates still chain to the same root');
    await applyText(lab, 'apiVersion: ambit.dev/v1alpha1\nkind: AuthorizationPolicy\nmetadata: { name: deny-intruder-again, namespace: shop }\n', 'delete');
  });

  it('rotates certificates under load without dropping a connection', async () => {
    const serials = async () =>
      (JSON.parse(await adminGet(lab, agent('node1').admin, '/config_dump')) as { certificates: { identity: string; notBefore: string }[] }).certificates
        .filter((c) => c.identity.endsWith('/sa/frontend'))
        .map((c) => c.notBefore);
    const before = await serials();
    const r = await load(lab, 'shop/frontend', webUrl, 400, 4);
    const afterCerts = await serials();
    assert.deepEqual([r.failed, r.errors], [0, []]);
    assert.equal(r.ok, 400);
    assert.notDeepEqual(afterCerts, before, 'the frontend certificate was replaced during the run');
  });
});
