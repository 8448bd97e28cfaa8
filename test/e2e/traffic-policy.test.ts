import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Service } from '../../lib/xds/index.js';
import { adminGet, applyText, Conns, eventually, fixture, jsonLines, LabHarness, requireRoot, type LabStatusJson, type Opened } from './harness.js';

/**
 * TrafficPolicy's load balancer end to end: the controller puts it on the
 * Service, the client's node agent balances by it. A client on node1 holds
 * connections open to the two replicas of `echo` (one on node1, one on
 * node2) and opens short ones beside them; which replica greets each
 * connection shows the policy. Every short connection is waited for in the
 * agent's access log before the next one opens: the agent writes that line
 * after the connection's count is released, so the counts are settled.
 */
describe('TrafficPolicy load balancing', { timeout: 600_000 }, () => {
  const lab = new LabHarness();
  let st: LabStatusJson;
  let clusterIp: string;
  let agentLog: string;
  let agentAdmin: string;
  const clients: Conns[] = [];

  before(async () => {
    requireRoot();
    await lab.must(['lab', 'up', '-f', fixture('traffic-policy.yaml'), '--nodes', '2']);
    st = await lab.status();
    clusterIp = st.services.find((s) => s.namespace === 'lb' && s.name === 'echo')!.clusterIP;
    const agent = st.components.find((c) => c.kind === 'node-agent' && c.node === 'node1')!;
    agentLog = agent.log;
    agentAdmin = agent.admin;
    assert.deepEqual(
      st.pods.filter((p) => p.name.startsWith('echo-')).map((p) => [p.name, p.node]).sort(),
      [
        ['echo-1', 'node1'],
        ['echo-2', 'node2'],
      ],
    );
    assert.ok(await eventually(async () => (await pushedService())?.endpoints.filter((e) => e.ready).length === 2, 80), 'the agent knows both replicas');
  });

  after(async () => {
    for (const c of clients) c.kill();
    await lab.ambit(['lab', 'down']);
  });

  /** A connection-holding process in the client pod. */
  const client = (): Conns => {
    const c = new Conns(lab, 'lb/client');
    clients.push(c);
    return c;
  };

  /** Whether the node1 agent has logged the connection the client made from `port` (and so released its count). */
  const logged = (port: number) =>
    jsonLines<{ component?: string; src?: { port?: number } }>(agentLog).some((l) => l.component === 'node-agent.access' && l.src?.port === port);

  /** Closes a connection and waits until the agent is done with it. */
  const close = async (c: Conns, conn: Opened): Promise<void> => {
    await c.close(conn.id);
    assert.ok(await eventually(async () => logged(conn.local.port), 80), `the agent logged the connection from port ${conn.local.port}`);
  };

  /** Opens a connection, notes its replica and closes it. */
  const short = async (c: Conns): Promise<string> => {
    const conn = await c.open(clusterIp, 80);
    await close(c, conn);
    return conn.pod;
  };

  /** `echo` as the node1 agent has it. */
  const pushedService = async () => {
    const dump = JSON.parse(await adminGet(lab, agentAdmin, '/config_dump')) as { model: { services: Service[] } };
    return dump.model.services.find((s) => s.namespace === 'lb' && s.name === 'echo');
  };
  const pushedPolicy = async () => (await pushedService())?.lbPolicy;

  const policyConditions = async (name: string) => {
    const r = await lab.ambit(['lab', 'kubectl', 'get', 'trafficpolicies.ambit.dev', name, '-n', 'lb', '-o', 'json'], 30_000);
    if (r.code !== 0) return [];
    return (JSON.parse(r.stdout) as { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } }).status?.conditions ?? [];
  };
  const condition = async (name: string, type: string) => (await policyConditions(name)).find((c) => c.type === type);

  const otherThan = (pod: string) => (pod === 'echo-1' ? 'echo-2' : 'echo-1');

  const lbPolicy = (type: string, extra = '') => `apiVersion: ambit.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: echo-lb, namespace: lb }
spec:
  targetRefs: [{ kind: Service, name: echo }]
  loadBalancer: { type: ${type}${extra} }
`;

  it('without a TrafficPolicy, balances round robin: new connections also go to the replica that holds one', async () => {
    assert.equal(await pushedPolicy(), 'ROUND_ROBIN');
    const c = client();
    const held = await c.open(clusterIp, 80);
    const picks = [await short(c), await short(c), await short(c), await short(c)];
    const other = otherThan(held.pod);
    assert.deepEqual(picks, [other, held.pod, other, held.pod], 'each replica in turn');
    await close(c, held);
    c.stop();
  });

  it('LeastRequest sends each new connection to the replica with fewer open', async () => {
    await applyText(lab, lbPolicy('LeastRequest'));
    assert.ok(await eventually(async () => (await pushedPolicy()) === 'LEAST_REQUEST', 80), 'the node agent has the policy');
    assert.ok(await eventually(async () => (await condition('echo-lb', 'Accepted'))?.status === 'True', 80), 'Accepted=True');

    const c = client();
    const first = await c.open(clusterIp, 80);
    const other = otherThan(first.pod);
    // One held on `first.pod`: every short connection goes to the other replica.
    assert.deepEqual([await short(c), await short(c), await short(c), await short(c)], [other, other, other, other]);
    // The next held one too, which evens the counts; a third then tips them, and short connections avoid it.
    const second = await c.open(clusterIp, 80);
    assert.equal(second.pod, other);
    const third = await c.open(clusterIp, 80);
    assert.deepEqual([await short(c), await short(c)], [otherThan(third.pod), otherThan(third.pod)]);
    for (const h of [first, second, third]) await close(c, h);
    c.stop();
  });

  it('rejects a malformed TrafficPolicy with Accepted=False and keeps the last good one in force', async () => {
    // `lab apply` validates like an admission webhook would; kubectl does not, so the controller is what rejects it.
    const dir = mkdtempSync(join(tmpdir(), 'ambit-e2e-'));
    try {
      writeFileSync(join(dir, 'bad.yaml'), lbPolicy('Random'));
      await lab.must(['lab', 'kubectl', 'apply', '-f', join(dir, 'bad.yaml')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.ok(await eventually(async () => (await condition('echo-lb', 'Accepted'))?.status === 'False', 80), 'Accepted=False');
    const c = (await condition('echo-lb', 'Accepted'))!;
    assert.equal(c.reason, 'Invalid');
    assert.match(c.message, /spec\.loadBalancer\.type: must be one of RoundRobin, LeastRequest, ConsistentHash \(got "Random"\)/);
    assert.match(c.message, /The last accepted version \(generation 1\) stays in force/);
    assert.equal(await pushedPolicy(), 'LEAST_REQUEST');
    const conns = client();
    const held = await conns.open(clusterIp, 80);
    assert.deepEqual([await short(conns), await short(conns)], [otherThan(held.pod), otherThan(held.pod)], 'still least request');
    await close(conns, held);
    conns.stop();
  });

  it('ConsistentHash needs a waypoint: the status says so and the agent balances round robin', async () => {
    await applyText(lab, lbPolicy('ConsistentHash', ', consistentHash: { header: x-user }'));
    assert.ok(await eventually(async () => (await pushedPolicy()) === 'CONSISTENT_HASH', 80), 'the node agent has the policy');
    assert.ok(await eventually(async () => (await condition('echo-lb', 'WaypointAccepted'))?.status === 'False', 80), 'WaypointAccepted=False');
    assert.equal((await condition('echo-lb', 'Accepted'))?.status, 'True', 'the fixed policy is accepted again');
    assert.match((await condition('echo-lb', 'WaypointAccepted'))!.message, /consistent hashing on header x-user needs a waypoint, so node agents balance connections round robin instead/);

    const c = client();
    const held = await c.open(clusterIp, 80);
    const picks = [await short(c), await short(c), await short(c), await short(c)];
    assert.deepEqual(picks, [otherThan(held.pod), held.pod, otherThan(held.pod), held.pod], 'round robin, not least request');
    await close(c, held);
    c.stop();

    await applyText(lab, lbPolicy('ConsistentHash', ', consistentHash: { header: x-user }'), 'delete');
    assert.ok(await eventually(async () => (await pushedPolicy()) === 'ROUND_ROBIN', 80), 'deleting the policy restores round robin');
  });
});
