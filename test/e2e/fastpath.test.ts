import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { adminGet, agentRestarted, applyText, eventually, fixture, LabHarness, requireRoot, type LabStatusJson } from './harness.js';

/**
 * The same-node fast path (bpf/fastpath.c, node-agent/fastpath/): once the
 * agent has authorized a connection between two pods of its node, the kernel
 * moves its bytes between the agent's two sockets. The agent still owns the
 * connection, so policy, half-close, metrics and the access log must stay
 * exactly as they were, and connections to other nodes must not notice.
 */
describe('same-node fast path', { timeout: 600_000 }, () => {
  const lab = new LabHarness();
  let st: LabStatusJson;
  const pod = (ns: string, name: string) => st.pods.find((p) => p.namespace === ns && p.name === name)!;
  const agent = async (node: string) => (await lab.status()).components.find((c) => c.kind === 'node-agent' && c.node === node)!;

  interface Transfer {
    sent: number;
    received: number;
    ms: number;
    local: { ip: string; port: number };
    answer?: { got?: number; sha: string };
    ok?: boolean;
    error?: string;
  }
  /** Runs fixtures/bulk.mjs in a pod: `up` sends BYTES to the server and ends its side first, `down` fetches BYTES. */
  const bulk = async (from: string, mode: 'up' | 'down', host: string, bytes: number, rateMBps: number): Promise<Transfer> => {
    const r = await lab.ambit(['lab', 'exec', from, '--', 'node', fixture('bulk.mjs'), mode, host, '9000', String(bytes), String(rateMBps)], 180_000);
    try {
      return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Transfer;
    } catch {
      throw new Error(`bulk.mjs ${mode} printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
  };

  interface FastStatus {
    path: string;
    open: number;
    joined: number;
    fellBack: Record<string, number>;
    kernel: { redirectedBytes: string; passedBytes: string; sockets: number };
  }
  const fast = async (node: string): Promise<FastStatus> => (JSON.parse(await adminGet(lab, (await agent(node)).admin, '/config_dump')) as { fastPath: FastStatus }).fastPath;

  /** What the agent process read through read(2) and friends (sockets included), and its CPU time. */
  const usage = async (node: string) => {
    const pid = (await agent(node)).pid!;
    const rchar = Number(/rchar: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { rchar, cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100 };
  };

  /** The node agent's counter of TCP bytes for connections to fast/server, as its /metrics shows it. */
  const tcpBytes = async (node: string, direction: 'received' | 'sent') => {
    const text = await adminGet(lab, (await agent(node)).admin, '/metrics');
    const re = new RegExp(`^ambit_tcp_${direction}_bytes_total\\{([^}]*)\\} (\\d+)`, 'gm');
    let total = 0;
    for (const m of text.matchAll(re)) if (m[1]!.includes('reporter="destination"') && m[1]!.includes('destination_workload="server"')) total += Number(m[2]);
    return total;
  };

  before(async () => {
    requireRoot();
    await lab.must(['lab', 'up', '-f', fixture('fastpath.yaml'), '--nodes', '2']);
    const server = (name: string, node: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata: { name: ${name}, namespace: fast, labels: { app: ${name} } }\nspec:\n  nodeName: ${node}\n  serviceAccountName: server\n  containers: [{ name: bulk, command: ["node", ${JSON.stringify(fixture('bulk.mjs'))}, "serve", "9000"] }]\n`;
    await applyText(lab, `${server('server', 'node1')}---\n${server('remote', 'node2')}`);
    assert.ok(await eventually(async () => (await lab.status()).pods.filter((p) => p.name === 'server' || p.name === 'remote').every((p) => p.phase === 'Running'), 80));
    st = await lab.status();
    // The servers listen, and the agents have a complete config (policies included).
    const ready = await eventually(async () => (await bulk('fast/client', 'up', pod('fast', 'server').ip, 10, 1).catch(() => ({ ok: false }))).ok === true, 40);
    assert.ok(ready, 'the server answers through the mesh');
  });

  after(async () => {
    await lab.ambit(['lab', 'down']);
  });

  it('carries same-node connections in the kernel on both nodes', async () => {
    for (const node of ['node1', 'node2']) assert.equal((await fast(node)).path, 'kernel', `${node}: ${JSON.stringify(await fast(node))}`);
  });

  it('moves hundreds of MB between two pods of a node without them passing through the agent', async (t) => {
    const server = pod('fast', 'server').ip;
    const mb = 200;
    const before = { fast: await fast('node1'), use: await usage('node1') };
    // Paced, so the reader keeps up: bytes of a sender that outruns its reader
    // by more than the kernel may queue are handed to the agent by design
    // (fastpath.test.ts), and a busy machine can make the reader fall behind.
    const up = await bulk('fast/client', 'up', server, mb << 20, 100);
    const down = await bulk('fast/client', 'down', server, mb << 20, 100);
    const afterwards = { fast: await fast('node1'), use: await usage('node1') };
    assert.ok(up.ok && down.ok, `both transfers arrived whole: ${JSON.stringify({ up, down })}`);
    const moved = 2 * (mb << 20);
    const redirected = Number(afterwards.fast.kernel.redirectedBytes) - Number(before.fast.kernel.redirectedBytes);
    const read = afterwards.use.rchar - before.use.rchar;
    const cpu = afterwards.use.cpuSeconds - before.use.cpuSeconds;
    const report = `kernel moved ${redirected >> 20} MiB, agent read ${(read / 2 ** 20).toFixed(1)} MiB and used ${cpu.toFixed(2)} s of CPU for ${moved >> 20} MiB`;
    t.diagnostic(report);
    assert.ok(redirected >= moved * 0.9, report);
    assert.ok(read < moved * 0.1, report);
    assert.equal(afterwards.fast.joined - before.fast.joined, 2, report);
  });

  it('counts a known transfer exactly, both ways, in the metrics and the access log, through a half-close', async () => {
    const server = pod('fast', 'server').ip;
    for (const mode of ['up', 'down'] as const) {
      const before = { received: await tcpBytes('node1', 'received'), sent: await tcpBytes('node1', 'sent'), fast: await fast('node1') };
      // `up` is the half-close: the client ends its side, the server answers 200 ms later, then ends.
      const t = await bulk('fast/client', mode, server, 3_000_000 + 7, 50);
      assert.ok(t.ok, JSON.stringify(t));
      const line = await lab.awaitAccessLine('node1', (l) => l.reporter === 'destination' && l.src.port === t.local.port);
      assert.ok(line, 'one access-log line when the connection ended');
      const logged = line as unknown as { bytes_received: number; bytes_sent: number; result: string };
      assert.deepEqual([logged.bytes_received, logged.bytes_sent, logged.result], [t.sent, t.received, 'ok'], `${mode}: access log against what the client counted`);
      assert.equal((await tcpBytes('node1', 'received')) - before.received, t.sent, `${mode}: ambit_tcp_received_bytes_total`);
      assert.equal((await tcpBytes('node1', 'sent')) - before.sent, t.received, `${mode}: ambit_tcp_sent_bytes_total`);
      const now = await fast('node1');
      assert.equal(now.joined - before.fast.joined, 1, `${mode} went through the kernel: ${JSON.stringify(now)}`);
      assert.deepEqual(now.fellBack, before.fast.fellBack);
    }
  });

  it('still refuses what policy denies, before anything reaches the kernel path', async () => {
    const before = await fast('node1');
    // The only connections from other/client: the denied ones (the reset can beat the client's own 'connect', so match by address).
    const denials = async () => (await lab.accessLog('node1')).filter((l) => l.src.ip === pod('other', 'client').ip && (l as unknown as { response_flags?: string }).response_flags === 'DENY').length;
    const earlier = await denials();
    const denied = await bulk('other/client', 'up', pod('fast', 'server').ip, 1000, 1);
    assert.ok(denied.error, `refused: ${JSON.stringify(denied)}`);
    assert.equal(denied.received, 0, 'not even the greeting');
    assert.ok(await eventually(async () => (await denials()) === earlier + 1, 40), 'logged as denied');
    assert.equal((await fast('node1')).joined, before.joined);
  });

  it('leaves connections to another node to HBONE', async () => {
    const before = { node1: await fast('node1'), node2: await fast('node2') };
    const t = await bulk('fast/client', 'down', pod('fast', 'remote').ip, 5 << 20, 50);
    assert.ok(t.ok, JSON.stringify(t));
    for (const node of ['node1', 'node2'] as const) {
      const now = await fast(node);
      assert.equal(now.joined, before[node].joined, `${node} joined nothing`);
      assert.equal(now.kernel.redirectedBytes, before[node].kernel.redirectedBytes, `${node} redirected nothing`);
    }
    const tunnel = await lab.awaitAccessLine('node1', (l) => l.reporter === 'source' && l.src.port === t.local.port && (l as unknown as { security: string }).security === 'mutual_tls');
    assert.ok(tunnel, 'node1 sent it through an mTLS tunnel');
  });

  it('leaves nothing in the sockmap after many short connections', async () => {
    const r = await lab.ambit(['lab', 'exec', 'fast/client', '--', 'node', fixture('rate.mjs'), pod('fast', 'server').ip, '9000', '100', '3'], 60_000);
    const rate = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { attempted: number; served: number };
    assert.equal(rate.served, rate.attempted, r.stdout);
    const drained = await eventually(async () => {
      const f = await fast('node1');
      return f.open === 0 && f.kernel.sockets === 0;
    }, 40);
    assert.ok(drained, JSON.stringify(await fast('node1')));
  });

  it('re-adopts the pinned program after the agent is killed; what it carried is reset with it', async (ctx) => {
    const server = pod('fast', 'server').ip;
    const old = await agent('node1');
    const open = (await fast('node1')).open;
    // A download that outlives the agent.
    const running = bulk('fast/client', 'down', server, 1500 << 20, 50);
    assert.ok(await eventually(async () => (await fast('node1')).open === open + 1, 40), 'the download is in the kernel');
    process.kill(old.pid!, 'SIGKILL');
    const cut = await running;
    ctx.diagnostic(`the client saw: ${JSON.stringify({ error: cut.error, received: cut.received, ok: cut.ok })}`);
    // Not a clean but early end of stream: the kernel resets what the dead agent carried.
    assert.equal(cut.error, 'ECONNRESET', JSON.stringify(cut));
    assert.ok(await agentRestarted(lab, 'node1', old), 'the agent came back');
    const f = await fast('node1');
    assert.equal(f.path, 'kernel', JSON.stringify(f));
    assert.equal(f.kernel.sockets, 0, 'the dead agent\'s sockets left the sockmap with it');
    const t = await bulk('fast/client', 'up', server, 20 << 20, 100);
    assert.ok(t.ok, JSON.stringify(t));
    assert.equal((await fast('node1')).joined, 1, 'and the new agent joins new connections');
  });
});
