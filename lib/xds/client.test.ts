import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { connectMeshConfig, type MeshConfigConnection, type UpdateResult } from './client.js';
import { bearerToken } from './auth.js';
import { controllerChannel } from './credentials.js';
import { loadAmbitProtos } from './proto.js';
import { toWire } from './resources.js';
import type { Ack, AgentMessage, ConfigMessage, Hello, PeerAuthentication, ResourceType } from './types.js';

/** A scripted MeshConfig server: the test sends messages and reads what the agent answered. */
interface FakeStream {
  call: grpc.ServerDuplexStream<AgentMessage, ConfigMessage>;
  token: string | undefined;
  hello: Promise<Hello>;
  acks: Ack[];
  send(m: ConfigMessage): void;
}

const pa = (name: string, mode: PeerAuthentication['mode'] = 'STRICT'): PeerAuthentication => ({ namespace: 'ns', name, scope: 'NAMESPACE', selector: null, mode, portLevelMtls: [] });
const paMessage = (version: string, nonce: string, upserts: PeerAuthentication[], removals: string[] = [], fullState = false): ConfigMessage => ({
  type: 'PeerAuthentication',
  version,
  nonce,
  upserts: upserts.map((p) => toWire('PeerAuthentication', `ns/${p.name}`, p)),
  removals,
  fullState,
});
const empty = (type: ResourceType, version: string, nonce: string): ConfigMessage => ({ type, version, nonce, upserts: [], removals: [], fullState: false });

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('connectMeshConfig against a scripted server', () => {
  let server: grpc.Server;
  let port: number;
  const streams: FakeStream[] = [];
  const conns: MeshConfigConnection[] = [];

  before(async () => {
    server = new grpc.Server();
    server.addService(loadAmbitProtos().meshConfig, {
      Stream: (call: grpc.ServerDuplexStream<AgentMessage, ConfigMessage>) => {
        let gotHello!: (h: Hello) => void;
        const s: FakeStream = { call, token: bearerToken(call.metadata), hello: new Promise((r) => (gotHello = r)), acks: [], send: (m) => call.write(m) };
        call.on('data', (m: AgentMessage) => (m.hello ? gotHello(m.hello) : m.ack && s.acks.push(m.ack)));
        call.on('error', () => undefined);
        streams.push(s);
      },
    });
    port = await new Promise((r, j) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
  });
  after(async () => {
    for (const c of conns) await c.stop();
    server.forceShutdown();
  });

  const connect = (onUpdate: Parameters<typeof connectMeshConfig>[0]['onUpdate']) => {
    const c = connectMeshConfig({ address: `127.0.0.1:${port}`, channel: controllerChannel({ kind: 'insecure' }), nodeName: 'node-a', token: () => 'tok', agentVersion: '1.2.3', onUpdate, backoff: { next: () => 10, reset: () => undefined } });
    conns.push(c);
    return c;
  };

  it('says hello with its token, applies updates, turns a full state into removals, and ACKs by nonce', async () => {
    const applied: [string, string[], string[]][] = [];
    const c = connect((type, upserts, removals) => {
      applied.push([type, upserts.map((u) => (u as { name: string }).name), removals]);
      return { ok: true };
    });
    await until('stream', () => streams.length === 1);
    const s = streams[0]!;
    const hello = await s.hello;
    assert.deepEqual(hello, { nodeName: 'node-a', agentVersion: '1.2.3', knownVersions: {} });
    assert.equal(s.token, 'tok');

    s.send(paMessage('v1', 'n1', [pa('a'), pa('b')], [], true));
    await until('ack n1', () => s.acks.length === 1);
    assert.deepEqual(s.acks[0], { type: 'PeerAuthentication', version: 'v1', nonce: 'n1', error: null });
    // A later full state without "b": the client works out the removal.
    s.send(paMessage('v2', 'n2', [pa('a', 'PERMISSIVE'), pa('c')], [], true));
    await until('ack n2', () => s.acks.length === 2);
    assert.deepEqual(applied, [
      ['PeerAuthentication', ['a', 'b'], []],
      ['PeerAuthentication', ['a', 'c'], ['ns/b']],
    ]);
    // An empty message is ACKed without bothering onUpdate.
    s.send(empty('Workload', 'w1', 'n3'));
    await until('ack n3', () => s.acks.length === 3);
    assert.equal(applied.length, 2);
    assert.equal(c.status().versions.PeerAuthentication, 'v2');
    assert.equal(c.status().versions.Workload, 'w1');

    // synced: once every type has been applied.
    let synced = false;
    void c.synced.then(() => (synced = true));
    s.send(empty('Service', 's1', 'n4'));
    s.send(empty('AuthorizationPolicy', 'p1', 'n5'));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(synced, false, 'not before the last type has arrived');
    s.send(empty('Node', 'd1', 'n6'));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(synced, false, 'Routes too, even empty (as node agents get them)');
    s.send(empty('Route', 'r1', 'n7'));
    await until('synced', () => synced);
    await c.stop();
  });

  it('NACKs what onUpdate rejects or throws on, keeps its version, and resumes with known versions after a reconnect', async () => {
    let mode: 'ok' | 'reject' | 'throw' = 'reject';
    const c = connect((): UpdateResult => {
      if (mode === 'throw') throw new Error('kaboom');
      return mode === 'reject' ? { ok: false, error: 'port 8080 is taken' } : { ok: true };
    });
    await until('stream', () => streams.length === 2);
    let s = streams[1]!;
    await s.hello;
    s.send(paMessage('v1', 'n1', [pa('a')]));
    await until('nack', () => s.acks.length === 1);
    assert.deepEqual(s.acks[0], { type: 'PeerAuthentication', version: 'v1', nonce: 'n1', error: { message: 'port 8080 is taken' } });
    mode = 'throw';
    s.send(paMessage('v2', 'n2', [pa('a')]));
    await until('nack 2', () => s.acks.length === 2);
    assert.match(s.acks[1]!.error!.message, /kaboom/);
    assert.equal(c.status().versions.PeerAuthentication, '', 'nothing was applied');
    assert.equal(c.status().lastNack?.version, 'v2');
    mode = 'ok';
    s.send(paMessage('v3', 'n3', [pa('a')]));
    await until('ack', () => s.acks.length === 3 && s.acks[2]!.error === null);

    // The server goes away mid-stream: the client reconnects and says what it has.
    s.call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'restarting' });
    await until('reconnect', () => streams.length === 3);
    s = streams[2]!;
    assert.deepEqual((await s.hello).knownVersions, { PeerAuthentication: 'v3' });
    assert.match(c.status().lastError ?? '', /UNAVAILABLE: restarting/);
    assert.equal(c.status().connects, 2);
    s.send(empty('PeerAuthentication', 'v3', 'm1'));
    await until('connected', () => c.status().state === 'connected');
    await c.stop();
    assert.equal(c.status().state, 'stopped');
  });
});
