import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { agentRestarted, applyText, Conns, eventually, fixture, LabHarness, requireRoot, type LabStatusJson } from './harness.js';

/**
 * The node fails closed and never breaks what is open. While a node agent
 * is killed or restarted, plaintext from outside the mesh must not reach a
 * STRICT pod, nor a PERMISSIVE one whose policy would refuse it: the capture
 * rules live in the kernel across agent restarts and send what the agent
 * cannot judge to a reset. And opting a namespace in or out of the mesh must
 * never reset a connection that is already open.
 */
describe('failing closed, and label changes that break nothing', { timeout: 600_000 }, () => {
  const lab = new LabHarness();
  let st: LabStatusJson;
  const pod = (ns: string, name: string) => st.pods.find((p) => p.namespace === ns && p.name === name)!;
  const agentOn = async (node: string) => (await lab.status()).components.find((c) => c.kind === 'node-agent' && c.node === node)!;

  interface Rate {
    attempted: number;
    served: number;
    failed: number;
    errors: Record<string, number>;
  }
  /** Starts fixtures/rate.mjs in a pod: new connections at `rate`/s for `seconds`. */
  const rate = (from: string, ip: string, perSecond: number, seconds: number): Promise<Rate> =>
    lab.ambit(['lab', 'exec', from, '--', 'node', fixture('rate.mjs'), ip, '9000', String(perSecond), String(seconds)], 120_000).then((r) => {
      try {
        return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Rate;
      } catch {
        throw new Error(`rate.mjs printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
      }
    });

  /** Kills node2's agent with `signal` once the load has run a second, and waits until the restarted one is ready. */
  const restartAgent = async (signal: NodeJS.Signals): Promise<void> => {
    const before = await agentOn('node2');
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(before.pid!, signal);
    assert.ok(await agentRestarted(lab, 'node2', before), `node2's agent came back after ${signal}`);
  };

  before(async () => {
    requireRoot();
    await lab.must(['lab', 'up', '-f', fixture('fail-closed.yaml'), '--nodes', '2']);
    st = await lab.status();
  });

  after(async () => {
    await lab.ambit(['lab', 'down']);
  });

  it('the policies hold before anything restarts', async () => {
    const strict = await rate('plain/client', pod('locked', 'server').ip, 20, 1);
    assert.deepEqual([strict.served, strict.attempted], [0, 20], `STRICT refuses plaintext: ${JSON.stringify(strict)}`);
    const guarded = await rate('plain/client', pod('guarded', 'server').ip, 20, 1);
    assert.equal(guarded.served, 0, `the ALLOW policy refuses a plaintext caller from another namespace: ${JSON.stringify(guarded)}`);
    const insider = await rate('guarded/client', pod('guarded', 'server').ip, 20, 1);
    assert.equal(insider.served, 20, `the control: its own namespace gets through: ${JSON.stringify(insider)}`);
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`admits no plaintext to a STRICT or a guarded pod across a ${signal} of their node agent`, async () => {
      const load = Promise.all([rate('plain/client', pod('locked', 'server').ip, 50, 6), rate('plain/client', pod('guarded', 'server').ip, 25, 6)]);
      await restartAgent(signal);
      const [strict, guarded] = await load;
      assert.equal(strict.served, 0, `STRICT pod: ${JSON.stringify(strict)}`);
      assert.equal(guarded.served, 0, `guarded pod: ${JSON.stringify(guarded)}`);
      assert.ok(strict.attempted >= 250 && guarded.attempted >= 125, 'the load ran through the restart');
      const insider = await rate('guarded/client', pod('guarded', 'server').ip, 10, 1);
      assert.equal(insider.served, 10, `and the restarted agent serves the mesh again: ${JSON.stringify(insider)}`);
    });
  }

  it('labelling and unlabelling a namespace resets no open connection', async () => {
    const conns = new Conns(lab, 'later/client');
    try {
      const server = pod('later', 'server').ip;
      const label = (on: boolean) =>
        applyText(lab, `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: later\n${on ? '  labels:\n    ambit.dev/dataplane-mode: ambient\n' : ''}`);
      const meshed = async (want: boolean) => eventually(async () => (await lab.status()).pods.find((p) => p.namespace === 'later' && p.name === 'client')?.meshed === want);
      const alive = async (id: number, when: string) => assert.ok((await conns.ping(id)).echo, `connection ${id} still carries data ${when}`);
      /** Whether a new connection goes through node1's agent (it logs each one as it closes). */
      const viaMesh = async (): Promise<boolean> => {
        const c = await conns.open(server, 9000);
        await conns.close(c.id);
        return (await lab.awaitAccessLine('node1', (l) => l.reporter === 'source' && l.src.port === c.local.port, 8)) !== undefined;
      };

      const direct = await conns.open(server, 9000);
      await alive(direct.id, 'before any label');
      await label(true);
      assert.ok(await meshed(true));
      // Give both agents time to enroll the client and capture the server.
      assert.ok(await eventually(viaMesh, 10), 'new connections go through the mesh once labelled');
      await alive(direct.id, 'after its namespace joined the mesh');
      const meshedConn = await conns.open(server, 9000);
      await alive(meshedConn.id, 'opened in the mesh');

      await label(false);
      assert.ok(await meshed(false));
      assert.ok(await eventually(async () => !(await viaMesh()), 10), 'new connections go direct once unlabelled');
      await alive(direct.id, 'after its namespace left the mesh again');
      await alive(meshedConn.id, 'opened in the mesh, after the namespace left it');
      await conns.close(direct.id);
      await conns.close(meshedConn.id);
    } finally {
      conns.stop();
      conns.kill();
    }
  });
});
