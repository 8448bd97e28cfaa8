import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminGet, fixture, LabHarness, requireRoot, sleep, type LabStatusJson } from './harness.js';

/**
 * The foundation end to end: a two-node lab, eBPF redirection of meshed pods
 * into the node agent with the original destination recovered, un-meshed
 * pods untouched, live opt-in and opt-out, agent restart, clean teardown.
 */
describe('lab and eBPF redirection', { timeout: 600_000 }, () => {
  const lab = new LabHarness();
  let st: LabStatusJson;
  const pod = (ns: string, name: string) => st.pods.find((p) => p.namespace === ns && p.name === name)!;
  const service = (ns: string, name: string) => st.services.find((s) => s.namespace === ns && s.name === name)!;
  /** The source-side agent's record of a connection a pod made from `port`. */
  /** The source agent's access-log line for the connection from `port`. */
  const redirectedLine = (node: string, port: number) => lab.awaitAccessLine(node, (l) => l.reporter === 'source' && l.src.port === port);
  const bpfStats = async (node: string) => {
    const agent = st.components.find((c) => c.kind === 'node-agent' && c.node === node)!;
    return (JSON.parse(await adminGet(lab, agent.admin, '/config_dump')) as { bpfStats: Record<string, string> }).bpfStats;
  };

  before(async () => {
    requireRoot();
    const up = await lab.ambit(['lab', 'up', '-f', fixture('basic.yaml'), '--nodes', '2']);
    assert.equal(up.code, 0, `lab up failed:\n${up.stderr}\n${up.stdout}`);
    st = await lab.status();
  });

  after(async () => {
    await lab.ambit(['lab', 'down']);
  });

  it('boots two nodes with pods, services and one agent per node', () => {
    assert.equal(st.phase, 'ready');
    assert.deepEqual(st.nodes.map((n) => n.name), ['node1', 'node2']);
    for (const p of st.pods) assert.equal(p.phase, 'Running', `${p.namespace}/${p.name}`);
    assert.equal(pod('mesh', 'server').node, 'node2');
    assert.equal(pod('mesh', 'client').meshed, true);
    assert.equal(pod('mesh', 'optout').meshed, false);
    assert.equal(pod('plain', 'client').meshed, false);
    assert.match(service('mesh', 'server').clusterIP, /^10\.96\./);
    assert.equal(st.components.filter((c) => c.kind === 'node-agent').length, 2);
  });

  it('redirects a meshed pod to a pod IP across nodes, with the original destination', async () => {
    const server = pod('mesh', 'server');
    const r = await lab.connect('mesh/client', server.ip, 9000);
    assert.equal(r.error, undefined);
    assert.equal(r.reply?.pod, 'server');
    const line = await redirectedLine('node1', r.local!.port);
    assert.ok(line, 'the agent logged the connection');
    assert.equal(line.src.ip, pod('mesh', 'client').ip);
    assert.deepEqual(line.original_dst, { ip: server.ip, port: 9000 });
    assert.deepEqual([line.dst.ip, line.dst.port], [server.ip, 9000]);
    assert.equal(line.src.namespace, 'mesh');
  });

  it('redirects a meshed pod to a ClusterIP by name, with the ClusterIP as original destination', async () => {
    const svc = service('mesh', 'server');
    for (const name of ['server', 'server.mesh', 'server.mesh.svc.cluster.local']) {
      const r = await lab.connect('mesh/client', name, 80);
      assert.equal(r.reply?.pod, 'server', `via ${name}: ${JSON.stringify(r)}`);
      const line = await redirectedLine('node1', r.local!.port);
      assert.ok(line, `agent logged the connection to ${name}`);
      assert.deepEqual(line.original_dst, { ip: svc.clusterIP, port: 80 });
      assert.deepEqual([line.dst.ip, line.dst.port], [pod('mesh', 'server').ip, 9000], 'balanced to the endpoint');
    }
  });

  it('leaves the outbound of un-meshed and opted-out pods alone (kube-proxy serves their ClusterIP)', async () => {
    const before = await bpfStats('node1');
    for (const client of ['plain/client', 'mesh/optout']) {
      const r = await lab.connect(client, 'server.mesh', 80);
      assert.equal(r.reply?.pod, 'server', `${client}: ${JSON.stringify(r)}`);
      // (The meshed server's own agent may still take it in as plaintext: that is its inbound side.)
      assert.equal(await redirectedLine('node1', r.local!.port), undefined, 'the source node agent never saw it');
    }
    const afterStats = await bpfStats('node1');
    assert.equal(afterStats.connect_seen, before.connect_seen, 'connect4 saw no enrolled socket');
  });

  it('switches a running pod into and out of the mesh when its namespace is labelled', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ambit-e2e-'));
    const write = (labelled: boolean) => {
      const file = join(dir, `plain-${labelled}.yaml`);
      writeFileSync(
        file,
        `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: plain\n${labelled ? '  labels:\n    ambit.dev/dataplane-mode: ambient\n' : ''}`,
      );
      return file;
    };
    const proxied = async () => {
      const r = await lab.connect('plain/client', pod('mesh', 'server').ip, 9000);
      return r.local !== undefined && (await redirectedLine('node1', r.local.port)) !== undefined;
    };

    assert.equal(await proxied(), false);
    let started = Date.now();
    await lab.must(['lab', 'apply', '-f', write(true)]);
    let switched = false;
    for (let i = 0; i < 50 && !switched; i++) switched = await proxied();
    t.diagnostic(`label -> redirected within ${Date.now() - started} ms (including one exec per probe)`);
    assert.ok(switched, 'the running pod was redirected after its namespace was labelled');

    started = Date.now();
    await lab.must(['lab', 'apply', '-f', write(false)]);
    let released = false;
    for (let i = 0; i < 50 && !released; i++) released = !(await proxied());
    t.diagnostic(`unlabel -> direct within ${Date.now() - started} ms`);
    assert.ok(released, 'the running pod left the mesh after the label was removed');
  });

  it('re-adopts its pinned programs after an agent restart, without a second attachment', async () => {
    const agent = st.components.find((c) => c.kind === 'node-agent' && c.node === 'node1')!;
    const cgroupDir = join(execFileSync('findmnt', ['-n', '-o', 'TARGET', '-t', 'cgroup2']).toString().trim().split('\n')[0]!, `ambit-${lab.name}-lab`, 'nodes', 'node1', 'kubepods'); // the node's pod cgroup, as the cgroupfs driver names it
    const progs = () => execFileSync('bpftool', ['cgroup', 'show', cgroupDir]).toString().trim().split('\n').filter((l) => /connect4|sock_ops|getpeername4/.test(l));
    assert.equal(progs().length, 3, progs().join('\n'));
    process.kill(agent.pid!, 'SIGKILL');
    let restarted = false;
    for (let i = 0; i < 100 && !restarted; i++) {
      await sleep(100);
      const a = (await lab.status()).components.find((c) => c.kind === 'node-agent' && c.node === 'node1')!;
      restarted = a.restarts > agent.restarts && a.pid !== undefined && (await adminGet(lab, a.admin, '/ready').then(() => true, () => false));
    }
    assert.ok(restarted, 'the agent came back');
    assert.equal(progs().length, 3, `still exactly one program per hook:\n${progs().join('\n')}`);
    const r = await lab.connect('mesh/client', 'server', 80);
    assert.equal(r.reply?.pod, 'server');
    assert.ok(await redirectedLine('node1', r.local!.port), 'traffic is still redirected');
  });

  it('removes everything on lab down, and down is idempotent', async () => {
    assert.equal((await lab.ambit(['lab', 'down'])).code, 0);
    const prefix = `ambit-${lab.name}-`;
    assert.deepEqual(
      execFileSync('ip', ['netns', 'list']).toString().split('\n').filter((l) => l.startsWith(prefix)),
      [],
    );
    assert.deepEqual(readdirSync('/sys/fs/bpf').filter((n) => n.startsWith(prefix)), []);
    const cg2 = execFileSync('findmnt', ['-n', '-o', 'TARGET', '-t', 'cgroup2']).toString().trim().split('\n')[0]!;
    assert.equal(existsSync(join(cg2, `${prefix}lab`)), false);
    assert.equal(existsSync(`/run/ambit/labs/${lab.name}`), false);
    assert.equal((await lab.ambit(['lab', 'down'])).code, 0);
    assert.equal((await lab.ambit(['lab', 'status'])).code, 1);
  });
});

describe('lab input errors', { timeout: 120_000 }, () => {
  it('rejects a bad manifest naming file and field, and builds nothing', async () => {
    requireRoot();
    const lab = new LabHarness();
    const dir = mkdtempSync(join(tmpdir(), 'ambit-e2e-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n    - name: c\n      command: "not-a-list"\n');
    const r = await lab.ambit(['lab', 'up', '-f', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /bad\.yaml/);
    assert.match(r.stderr, /command/);
    assert.deepEqual(
      execFileSync('ip', ['netns', 'list']).toString().split('\n').filter((l) => l.startsWith(`ambit-${lab.name}-`)),
      [],
    );
  });
});

describe('lab crash recovery', { timeout: 240_000 }, () => {
  it('cleans up everything after the supervisor was killed, and can boot again', async () => {
    requireRoot();
    const lab = new LabHarness();
    const prefix = `ambit-${lab.name}-`;
    const cg2 = execFileSync('findmnt', ['-n', '-o', 'TARGET', '-t', 'cgroup2']).toString().trim().split('\n')[0]!;
    try {
      const tooFew = await lab.ambit(['lab', 'up', '-f', fixture('basic.yaml'), '--nodes', '1']);
      assert.notEqual(tooFew.code, 0);
      assert.match(tooFew.stderr, /basic\.yaml: document \d+ .*spec\.nodeName: no node "node2" in a lab of 1 node/);
      await lab.must(['lab', 'up', '-f', fixture('basic.yaml'), '--nodes', '2']);
      const supervisor = Number(readFileSync(join(cg2, `${prefix}lab`, 'system', 'supervisor', 'cgroup.procs'), 'utf8').trim().split('\n')[0]);
      process.kill(supervisor, 'SIGKILL');
      await sleep(200);
      const st = await lab.ambit(['lab', 'status']);
      assert.notEqual(st.code, 0);
      assert.match(st.stderr, /not up/);
      // A new `up` clears the wreck first.
      await lab.must(['lab', 'up', '-f', fixture('basic.yaml'), '--nodes', '2']);
      assert.equal((await lab.status()).phase, 'ready');
      process.kill(Number(readFileSync(join(cg2, `${prefix}lab`, 'system', 'supervisor', 'cgroup.procs'), 'utf8').trim().split('\n')[0]), 'SIGKILL');
    } finally {
      assert.equal((await lab.ambit(['lab', 'down'])).code, 0);
    }
    assert.deepEqual(execFileSync('ip', ['netns', 'list']).toString().split('\n').filter((l) => l.startsWith(prefix)), []);
    assert.deepEqual(readdirSync('/sys/fs/bpf').filter((n) => n.startsWith(prefix)), []);
    assert.equal(existsSync(join(cg2, `${prefix}lab`)), false);
  });
});
