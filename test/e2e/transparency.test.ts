import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminGet, eventually, fixture, inLabNetns, LabHarness, requireRoot, type LabStatusJson } from './harness.js';

/**
 * The mesh is invisible to applications, as users of Istio ambient and
 * Cilium expect: the destination sees the client pod's own address (not the
 * node's), getpeername() in the client returns the address it dialled (not
 * the agent's 15001), and a source address claimed in a tunnel is believed
 * only for a workload of the peer's own identity on the peer's own node.
 */
describe('transparency and source addresses', { timeout: 600_000 }, () => {
  const lab = new LabHarness();
  let st: LabStatusJson;
  const pod = (ns: string, name: string) => st.pods.find((p) => p.namespace === ns && p.name === name)!;
  const node = (name: string) => st.nodes.find((n) => n.name === name)!;
  const agent = (name: string) => st.components.find((c) => c.kind === 'node-agent' && c.node === name)!;

  before(async () => {
    requireRoot();
    await lab.must(['lab', 'up', '-f', fixture('transparency.yaml'), '--nodes', '2']);
    st = await lab.status();
  });

  after(async () => {
    await lab.ambit(['lab', 'down']);
  });

  it('the destination application sees the meshed client pod, across nodes and on the same node', async () => {
    for (const client of ['client1', 'client2']) {
      for (const [host, port] of [[pod('mesh', 'server').ip, 9000], ['server.mesh', 80]] as const) {
        const r = await lab.connect(`mesh/${client}`, host, port);
        assert.equal(r.reply?.pod, 'server', `${client} -> ${host}:${port}: ${JSON.stringify(r)}`);
        assert.equal(r.reply?.peer, pod('mesh', client).ip, `${client} -> ${host}:${port}: the server saw the client itself`);
        // Same node, the agent reports it once, as its destination side.
        const logged = await lab.awaitAccessLine(pod('mesh', client).node, (l) => l.src.ip === pod('mesh', client).ip && l.src.port === r.local!.port);
        assert.ok(logged, 'and the connection did go through the agent');
      }
    }
  });

  it('the destination application sees an unmeshed client admitted as plaintext (PERMISSIVE)', async () => {
    const r = await lab.connect('plain/client', pod('mesh', 'server').ip, 9000);
    assert.equal(r.reply?.peer, pod('plain', 'client').ip, JSON.stringify(r));
    const logged = await lab.awaitAccessLine('node2', (l) => l.reporter === 'destination' && l.src.ip === pod('plain', 'client').ip && l.src.port === r.local!.port);
    assert.ok(logged, 'taken in by the destination agent (15006)');
  });

  it('getpeername() in the client returns the address it dialled, not the agent', async () => {
    const svc = st.services.find((s) => s.namespace === 'mesh' && s.name === 'server')!;
    const byIp = await lab.connect('mesh/client1', pod('mesh', 'server').ip, 9000);
    assert.deepEqual(byIp.remote, { ip: pod('mesh', 'server').ip, port: 9000 });
    const byName = await lab.connect('mesh/client1', 'server.mesh', 80);
    assert.deepEqual(byName.remote, { ip: svc.clusterIP, port: 80 });
  });

  it('refuses a tunnel whose claimed source address is not its own workload, and counts it', async () => {
    const caDir = `/run/ambit/labs/${lab.name}/ca`;
    const server = pod('mesh', 'server');
    const via = `${node('node2').ip}:15008`;
    const me = 'spiffe://cluster.local/ns/mesh/sa/default'; // client1's (and client2's) identity
    const claim = async (claimed: string) => {
      const r = await inLabNetns(lab, 'node1', [process.execPath, fixture('hbone-claim.mjs'), via, `${server.ip}:9000`, me, claimed, caDir, 'spiffe://cluster.local/ns/mesh/sa/server']);
      return JSON.parse(r.stdout.trim().split('\n').pop() || '{}') as { ok: boolean; code?: string; reason?: string; body?: string };
    };
    // The truth: client1 is mesh/default on node1, and the tunnel comes from node1.
    const honest = await claim(pod('mesh', 'client1').ip);
    assert.equal(honest.ok, true, JSON.stringify(honest));
    assert.equal(JSON.parse(honest.body!).peer, pod('mesh', 'client1').ip);
    // Same identity, but that pod lives on node2: not this peer's to claim.
    const otherNode = await claim(pod('mesh', 'client2').ip);
    assert.deepEqual([otherNode.ok, otherNode.code], [false, 'AMBIT_ERR_HBONE_DENIED'], JSON.stringify(otherNode));
    assert.match(otherNode.reason ?? '', /on node node2, but the tunnel comes from/);
    // Another identity's pod, and an address that is no workload at all.
    const otherIdentity = await claim(pod('plain', 'client').ip);
    assert.equal(otherIdentity.ok, false);
    assert.match(otherIdentity.reason ?? '', /claims source address/);
    const nobody = await claim('10.244.1.250');
    assert.equal(nobody.ok, false);
    assert.match(nobody.reason ?? '', /no workload the mesh knows/);

    const metrics = await adminGet(lab, agent('node2').admin, '/metrics');
    const refused = /ambit_source_address_refused_total\{source_principal="cluster\.local\/ns\/mesh\/sa\/default"\} (\d+)/.exec(metrics);
    assert.equal(Number(refused?.[1]), 3, 'three refusals counted');
    const logged = await eventually(async () => (await lab.componentLog('node2')).some((l) => l.code === 'AMBIT_ERR_SOURCE_SPOOFED' && String(l.reason).includes(pod('mesh', 'client2').ip)));
    assert.ok(logged, 'each refusal is logged with its reason');
  });
});
