/** HBONE end to end on loopback: HbonePool -> startHboneServer -> TCP upstreams, real sockets. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { HOUR, issue, testCa } from '../identity/fixtures.js';
import { meshClientTlsOptions, type WorkloadTlsMaterial } from '../identity/index.js';
import { logger } from '../log.js';
import { echo, readAll, readBytes, tcpServer, waitFor } from './harness.js';
import { HbonePool, connectTcp, startHboneServer, type HboneServer, type HboneTunnel, type TunnelRecord, type TunnelRequest } from './index.js';

const ca = testCa();
const SERVER_ID = 'spiffe://cluster.local/ns/shop/sa/server';
const OTHER_SERVER_ID = 'spiffe://cluster.local/ns/shop/sa/other';
const CLIENT_ID = 'spiffe://cluster.local/ns/shop/sa/client';
const log = logger('hbone', 'test');
const T = { timeout: 30_000 };

let serverCert: WorkloadTlsMaterial = issue(ca, SERVER_ID);
const otherServerCert = issue(ca, OTHER_SERVER_ID);
let clientCert: WorkloadTlsMaterial = issue(ca, CLIENT_ID);

let hbone: HboneServer;
let via: string;
let upstream: Awaited<ReturnType<typeof tcpServer>>;
let denied: Awaited<ReturnType<typeof tcpServer>>;
let DENY_PORT: number;
/** connectUpstream calls per destination port. */
const upstreamAttempts = new Map<number, number>();
const requests: TunnelRequest[] = [];
const records: TunnelRecord[] = [];
const pools: HbonePool[] = [];

const newPool = (opts: ConstructorParameters<typeof HbonePool>[0] = {}): HbonePool => {
  const p = new HbonePool({ log, ...opts });
  pools.push(p);
  return p;
};
const dest = (port: number): string => `127.0.0.1:${port}`;

/** Opens a tunnel that must succeed. */
async function tunnel(pool: HbonePool, port = upstream.port, extra: Partial<Parameters<HbonePool['connect']>[0]> = {}): Promise<HboneTunnel> {
  const r = await pool.connect({ sourceIdentity: CLIENT_ID, sourceTls: () => clientCert, destination: dest(port), via, expectedServerIdentity: SERVER_ID, ...extra });
  if (!r.ok) throw r.error;
  return r.value;
}

before(async () => {
  upstream = await tcpServer(echo);
  denied = await tcpServer(echo);
  DENY_PORT = denied.port;
  hbone = await startHboneServer({
    host: '127.0.0.1',
    port: 0,
    log,
    tls: (servername) => (servername === 'other' ? otherServerCert : servername === 'nobody' ? undefined : serverCert),
    authorize: (req) => {
      requests.push(req);
      return req.destination.port === DENY_PORT ? { allow: false, reason: 'policy shop/deny-all: no rule matched' } : { allow: true };
    },
    onTunnelClosed: (r) => records.push(r),
    connectUpstream: (req, signal) => {
      upstreamAttempts.set(req.destination.port, (upstreamAttempts.get(req.destination.port) ?? 0) + 1);
      return connectTcp(req.destination, { signal });
    },
    handshakeTimeoutMs: 500,
  });
  via = `127.0.0.1:${hbone.address.port}`;
});

after(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await hbone.close();
  await upstream.close();
  await denied.close();
});

describe('tunnel data path', () => {
  test('carries data both ways; the client half-close reaches the upstream and the reply still arrives', T, async () => {
    const late = await tcpServer((s) => {
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => s.end(`got ${Buffer.concat(chunks).toString()}`)); // replies only after our FIN
    });
    try {
      const t = await tunnel(newPool(), late.port);
      assert.equal(t.serverIdentity.uri, SERVER_ID);
      t.stream.end('hello');
      assert.equal((await readAll(t.stream)).toString(), 'got hello');
    } finally {
      await late.close();
    }
  });

  test('the upstream half-close reaches the client, which can still send', T, async () => {
    let received = '';
    const gotAll = new Promise<string>((resolve) => {
      void tcpServer((s) => {
        s.end('bye'); // FIN first
        s.on('data', (c: Buffer) => (received += c.toString()));
        s.on('end', () => resolve(received));
      }).then((srv) => (greeter = srv));
    });
    let greeter: Awaited<ReturnType<typeof tcpServer>> | undefined;
    assert.ok(await waitFor(() => greeter !== undefined));
    try {
      const t = await tunnel(newPool(), greeter!.port);
      assert.equal((await readAll(t.stream)).toString(), 'bye');
      assert.equal(t.stream.writable, true, 'our direction is still open');
      t.stream.end('still here');
      assert.equal(await gotAll, 'still here');
    } finally {
      await greeter!.close();
    }
  });

  test('1 MiB each way arrives intact and is counted by the server', T, async () => {
    const t = await tunnel(newPool());
    const data = randomBytes(1024 * 1024);
    const before = hbone.stats().bytesFromPeers;
    const recordsBefore = records.length;
    const reading = readAll(t.stream);
    t.stream.end(data);
    const back = await reading;
    assert.equal(back.length, data.length);
    assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(data).digest('hex'));
    assert.ok(await waitFor(() => records.length > recordsBefore));
    assert.equal(hbone.stats().bytesFromPeers - before, data.length);
    const rec = records.at(-1)!;
    assert.equal(rec.status, 200);
    assert.equal(rec.bytesFromPeer, data.length);
    assert.equal(rec.bytesToPeer, data.length);
    assert.equal(rec.request?.peer.uri, CLIENT_ID);
  });

  test('many concurrent streams share one session', T, async () => {
    const pool = newPool();
    const N = 50;
    const tunnels = await Promise.all(Array.from({ length: N }, () => tunnel(pool)));
    const stats = pool.stats();
    assert.equal(stats.sessionsOpened, 1);
    assert.equal(stats.sessions.length, 1);
    assert.equal(stats.sessions[0]!.activeStreams, N);
    assert.equal(new Set(tunnels.map((t) => t.sessionId)).size, 1);
    const replies = await Promise.all(
      tunnels.map((t, i) => {
        const r = readAll(t.stream);
        t.stream.end(`stream ${i}`);
        return r;
      }),
    );
    replies.forEach((r, i) => assert.equal(r.toString(), `stream ${i}`));
    assert.ok(await waitFor(() => pool.stats().sessions[0]?.activeStreams === 0));
    assert.equal(pool.stats().sessions[0]!.totalStreams, N);
  });

  test("lanes spread one peer's tunnels over that many sessions, in turn", T, async () => {
    const pool = newPool();
    const tunnels = await Promise.all(Array.from({ length: 12 }, () => tunnel(pool, upstream.port, { lanes: 4 })));
    const stats = pool.stats();
    assert.equal(stats.sessionsOpened, 4);
    assert.deepEqual(stats.sessions.map((s) => s.activeStreams), [3, 3, 3, 3]);
    for (const t of tunnels) t.stream.destroy();
  });

  test('a full session makes the pool open another one', T, async () => {
    const pool = newPool({ maxStreamsPerSession: 10 });
    const tunnels = await Promise.all(Array.from({ length: 25 }, () => tunnel(pool)));
    const stats = pool.stats();
    assert.equal(stats.sessionsOpened, 3);
    assert.deepEqual(stats.sessions.map((s) => s.activeStreams).sort(), [10, 10, 5]);
    for (const t of tunnels) t.stream.destroy();
  });
});

describe('refusals', () => {
  test('authorization deny: a 403 error value with the reason, and no upstream connection', T, async () => {
    const r = await newPool().connect({ sourceIdentity: CLIENT_ID, sourceTls: () => clientCert, destination: dest(DENY_PORT), via });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.code, 'AMBIT_ERR_HBONE_DENIED');
    assert.equal(r.error.status, 403);
    assert.equal(r.error.reason, 'policy shop/deny-all: no rule matched');
    assert.equal(upstreamAttempts.get(DENY_PORT), undefined, 'no upstream connect was attempted');
    assert.equal(denied.connections(), 0);
    assert.equal(requests.at(-1)?.peer.uri, CLIENT_ID);
  });

  test('upstream connect failure: a 503 error value', T, async () => {
    const gone = await tcpServer(() => {});
    const port = gone.port;
    await gone.close();
    const r = await newPool().connect({ sourceIdentity: CLIENT_ID, sourceTls: () => clientCert, destination: dest(port), via });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.code, 'AMBIT_ERR_HBONE_UPSTREAM');
    assert.equal(r.error.status, 503);
    assert.match(r.error.reason ?? '', /ECONNREFUSED/);
  });

  test('a client certificate from another CA is refused', T, async () => {
    const stranger = issue(testCa(), CLIENT_ID);
    const failures = hbone.stats().handshakeFailures;
    const r = await newPool().connect({ sourceIdentity: CLIENT_ID, sourceTls: () => ({ ...stranger, rootPem: ca.certPem }), destination: dest(upstream.port), via });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.code, 'AMBIT_ERR_HBONE_TLS', r.error.message);
    assert.equal(r.error.reason, 'rejected-by-peer');
    assert.ok(await waitFor(() => hbone.stats().handshakeFailures > failures));
  });

  test('an expired client certificate is refused', T, async () => {
    const expired = issue(ca, CLIENT_ID, { now: Date.now() - 3 * 24 * HOUR, ttlMs: HOUR });
    const r = await newPool().connect({ sourceIdentity: CLIENT_ID, sourceTls: () => expired, destination: dest(upstream.port), via });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.code, 'AMBIT_ERR_HBONE_TLS', r.error.message);
    assert.equal(r.error.reason, 'rejected-by-peer');
    assert.match(r.error.message, /expired/i);
  });

  test('a server presenting an unexpected identity is refused by the client', T, async () => {
    const r = await newPool().connect({
      sourceIdentity: CLIENT_ID,
      sourceTls: () => clientCert,
      destination: dest(upstream.port),
      via,
      expectedServerIdentity: 'spiffe://cluster.local/ns/shop/sa/payments',
    });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.code, 'AMBIT_ERR_HBONE_TLS');
    assert.equal(r.error.reason, 'unexpected-identity');
    assert.match(r.error.message, /sa\/server/);
  });

  test('a server from another CA is refused by the client', T, async () => {
    const rogue = issue(testCa(), SERVER_ID);
    const srv = await startHboneServer({ host: '127.0.0.1', port: 0, log, tls: () => ({ ...rogue, rootPem: ca.certPem }), authorize: () => ({ allow: true }) });
    try {
      const r = await newPool().connect({ sourceIdentity: CLIENT_ID, sourceTls: () => clientCert, destination: dest(upstream.port), via: `127.0.0.1:${srv.address.port}`, expectedServerIdentity: SERVER_ID });
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error.code, 'AMBIT_ERR_HBONE_TLS');
      assert.equal(r.error.reason, 'wrong-ca');
    } finally {
      await srv.close();
    }
  });

  test('nothing listening on the peer port: a connect error value', T, async () => {
    const gone = await tcpServer(() => {});
    const port = gone.port;
    await gone.close();
    const r = await newPool().connect({ sourceIdentity: CLIENT_ID, sourceTls: () => clientCert, destination: dest(upstream.port), via: `127.0.0.1:${port}` });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.code, 'AMBIT_ERR_HBONE_CONNECT');
    assert.match(r.error.message, /ECONNREFUSED.*15008/);
  });

  test('non-CONNECT methods get 405 and bad authorities 400, on a session that keeps working', T, async () => {
    const session = http2.connect(`https://${via}`, { createConnection: () => tls.connect({ ...meshClientTlsOptions(clientCert, SERVER_ID), host: '127.0.0.1', port: hbone.address.port, ALPNProtocols: ['h2'] }) });
    session.on('error', () => {});
    try {
      const ask = (headers: http2.OutgoingHttpHeaders): Promise<http2.IncomingHttpHeaders> =>
        new Promise((resolve, reject) => {
          const s = session.request(headers, { endStream: headers[':method'] !== 'CONNECT' });
          s.on('response', (h) => {
            resolve(h);
            s.close();
          });
          s.on('error', reject);
        });
      const get = await ask({ ':method': 'GET', ':path': '/', ':authority': dest(upstream.port) });
      assert.equal(get[':status'], 405);
      assert.match(String(get['ambit-reason']), /only CONNECT/);
      for (const authority of ['example.com:80', '127.0.0.1', '127.0.0.1:99999']) {
        const bad = await ask({ ':method': 'CONNECT', ':authority': authority });
        assert.equal(bad[':status'], 400, authority);
      }
      const good = await ask({ ':method': 'CONNECT', ':authority': dest(upstream.port) });
      assert.equal(good[':status'], 200);
    } finally {
      session.destroy();
    }
  });
});

describe('robustness', () => {
  test('garbage, plain HTTP/1.1, TLS without a client cert, HTTP/1.1 over TLS and a silent client do not disturb a tunnel', T, async () => {
    const pool = newPool();
    const t = await tunnel(pool);
    const ping = async (msg: string): Promise<void> => {
      const reply = readBytes(t.stream, msg.length);
      t.stream.write(msg);
      assert.equal((await reply).toString(), msg);
      t.stream.resume();
    };
    await ping('before');
    const port = hbone.address.port;
    const ended = (s: net.Socket): Promise<void> =>
      new Promise((resolve) => {
        s.resume();
        s.on('error', () => {});
        s.on('close', () => resolve());
      });
    const raw = (bytes: Buffer | string): Promise<void> => {
      const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
      return ended(s);
    };
    const { key: _k, cert: _c, ...anonymous } = meshClientTlsOptions(clientCert, SERVER_ID);
    const silent = net.connect(port, '127.0.0.1'); // slowloris: connects and says nothing (handshake timeout 0.5 s)
    await Promise.all([
      raw(randomBytes(4096)),
      raw('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      raw(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')),
      ended(tls.connect({ ...anonymous, host: '127.0.0.1', port, ALPNProtocols: ['h2'] })),
      ended(tls.connect({ ...meshClientTlsOptions(clientCert, SERVER_ID), host: '127.0.0.1', port, ALPNProtocols: ['http/1.1'] }).on('secureConnect', function (this: tls.TLSSocket) {
        this.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      })),
      ended(silent),
    ]);
    await ping('after');
    const again = await tunnel(pool);
    assert.equal(again.sessionId, t.sessionId);
    again.stream.end('x');
    assert.equal((await readAll(again.stream)).toString(), 'x');
    t.stream.end();
    await readAll(t.stream);
  });

  test('clients that stall in the TLS handshake or before their first stream are closed', T, async () => {
    const srv = await startHboneServer({ host: '127.0.0.1', port: 0, log, tls: () => serverCert, authorize: () => ({ allow: true }), handshakeTimeoutMs: 100, idleTimeoutMs: 100 });
    try {
      const port = srv.address.port;
      const closed = (s: net.Socket): Promise<void> =>
        new Promise((resolve) => {
          s.resume();
          s.on('error', () => {});
          s.on('close', () => resolve());
        });
      const silentTcp = net.connect(port, '127.0.0.1');
      const silentTls = tls.connect({ ...meshClientTlsOptions(clientCert, SERVER_ID), host: '127.0.0.1', port, ALPNProtocols: ['h2'] });
      const partial = tls.connect({ ...meshClientTlsOptions(clientCert, SERVER_ID), host: '127.0.0.1', port, ALPNProtocols: ['h2'] }, () => {
        const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
        const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
        const headersStart = Buffer.from([0, 0, 100, 1, 4, 0, 0, 0, 1, 0x82]); // a 100-byte HEADERS frame, 1 byte sent
        partial.write(Buffer.concat([preface, settings, headersStart]));
      });
      await Promise.all([closed(silentTcp), closed(silentTls), closed(partial)]);
      assert.ok(await waitFor(() => srv.stats().sessions === 0));
    } finally {
      await srv.close();
    }
  });

  test('an unknown SNI is refused; a known SNI selects the identity the server presents', T, async () => {
    const pool = newPool();
    const other = await tunnel(pool, upstream.port, { serverName: 'other', expectedServerIdentity: OTHER_SERVER_ID });
    assert.equal(other.serverIdentity.uri, OTHER_SERVER_ID);
    other.stream.destroy();
    const stranger = issue(testCa(), CLIENT_ID);
    const refused = await pool.connect({ sourceIdentity: CLIENT_ID, sourceTls: () => ({ ...stranger, rootPem: ca.certPem }), destination: dest(upstream.port), via, serverName: 'other' });
    assert.equal(refused.ok, false, 'client certificates are verified on SNI-selected contexts too');
    const r = await pool.connect({ sourceIdentity: CLIENT_ID, sourceTls: () => clientCert, destination: dest(upstream.port), via, serverName: 'nobody' });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.code, 'AMBIT_ERR_HBONE_TLS', r.error.message);
  });

  test('a session the server closes for idleness is replaced on demand', T, async () => {
    const srv = await startHboneServer({ host: '127.0.0.1', port: 0, log, tls: () => serverCert, authorize: () => ({ allow: true }), idleTimeoutMs: 50 });
    const pool = newPool();
    try {
      const first = await tunnel(pool, upstream.port, { via: `127.0.0.1:${srv.address.port}` });
      first.stream.end('a');
      await readAll(first.stream);
      assert.ok(await waitFor(() => pool.stats().sessions.length === 0), 'the pool dropped the session after GOAWAY');
      const second = await tunnel(pool, upstream.port, { via: `127.0.0.1:${srv.address.port}` });
      assert.notEqual(second.sessionId, first.sessionId);
      second.stream.end('b');
      assert.equal((await readAll(second.stream)).toString(), 'b');
    } finally {
      await srv.close();
    }
  });

  test('a CONNECT whose session dies unanswered (the peer killed) is retried on a new session', T, async () => {
    // A relay in front of a server that cuts it in both directions while authorizing the first
    // CONNECT: to the pool, its peer vanished mid-request.
    const cut: net.Socket[] = [];
    let killed = false;
    const srv = await startHboneServer({
      host: '127.0.0.1',
      port: 0,
      log,
      tls: () => serverCert,
      authorize: () => {
        if (!killed) for (const sock of cut.splice(0)) sock.resetAndDestroy();
        killed = true;
        return { allow: true };
      },
    });
    const relay = net.createServer((c) => {
      const u = net.connect(srv.address.port, '127.0.0.1');
      c.pipe(u).pipe(c);
      c.on('error', () => {});
      u.on('error', () => {});
      cut.push(c, u);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const pool = newPool();
    try {
      const t = await tunnel(pool, upstream.port, { via: `127.0.0.1:${(relay.address() as net.AddressInfo).port}` });
      assert.ok(killed, 'the first session was cut while its CONNECT was in flight');
      assert.equal(pool.stats().sessionsOpened, 2, 'the tunnel came through a second session');
      t.stream.end('after');
      assert.equal((await readAll(t.stream)).toString(), 'after');
    } finally {
      relay.close();
      await srv.close();
    }
  });

  test('more resets and refusals than the peer tolerates per session do not break the pool', T, async () => {
    // A Node server GOAWAYs a session after about 1000 quick RST_STREAMs (rapid-reset guard).
    const pool = newPool();
    for (let i = 0; i < 1100; i++) (await tunnel(pool)).stream.destroy();
    assert.ok(pool.stats().sessionsOpened >= 2, 'the pool moved to a new session before the guard tripped');
    const opened = pool.stats().sessionsOpened;
    for (let i = 0; i < 1100; i++) {
      const r = await pool.connect({ sourceIdentity: CLIENT_ID, sourceTls: () => clientCert, destination: dest(DENY_PORT), via, expectedServerIdentity: SERVER_ID });
      assert.equal(r.ok ? 'ok' : r.error.code, 'AMBIT_ERR_HBONE_DENIED');
    }
    assert.equal(pool.stats().sessionsOpened, opened, 'refusals end streams cleanly, without resets');
  });

  test('the pool closes its idle sessions', T, async () => {
    const pool = newPool({ idleTimeoutMs: 50 });
    const t = await tunnel(pool);
    t.stream.end('a');
    await readAll(t.stream);
    assert.ok(await waitFor(() => pool.stats().sessions.length === 0));
  });

  test('after a burst, spare sessions close soon and the last one stays for the idle timeout', T, async () => {
    const pool = newPool({ maxStreamsPerSession: 1, idleTimeoutMs: 1500, spareIdleTimeoutMs: 50 });
    const burst = await Promise.all([tunnel(pool), tunnel(pool), tunnel(pool)]);
    assert.equal(pool.stats().sessions.length, 3, 'one session per stream');
    for (const t of burst) t.stream.end('a');
    await Promise.all(burst.map((t) => readAll(t.stream)));
    assert.ok(await waitFor(() => pool.stats().sessions.length === 1), 'the spares closed');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(pool.stats().sessions.length, 1, 'the last one stays, ready for the next connection');
    assert.ok(await waitFor(() => pool.stats().sessions.length === 0, 300), 'and closes after the idle timeout');
  });
});

describe('certificate rotation', () => {
  test('client rotation: the open stream keeps working on the old session, new streams use the new certificate', T, async () => {
    const pool = newPool();
    const old = await tunnel(pool);
    const rotated = issue(ca, CLIENT_ID);
    const oldSerial = pool.stats().sessions[0]!.sourceCertSerial;
    clientCert = rotated;
    try {
      const fresh = await tunnel(pool);
      assert.notEqual(fresh.sessionId, old.sessionId);
      const peerCert = requests.at(-1)!.peerCertificate;
      assert.notEqual(peerCert.serialNumber, oldSerial);
      assert.equal(pool.stats().sessions.find((s) => s.id === fresh.sessionId)?.sourceCertSerial, peerCert.serialNumber);
      assert.equal(pool.stats().sessions.find((s) => s.id === old.sessionId)?.state, 'draining');
      // the old stream still carries data both ways
      const reply = readAll(old.stream);
      old.stream.end('old stream');
      assert.equal((await reply).toString(), 'old stream');
      assert.ok(await waitFor(() => !pool.stats().sessions.some((s) => s.id === old.sessionId)), 'the drained session closed');
      fresh.stream.end('new stream');
      assert.equal((await readAll(fresh.stream)).toString(), 'new stream');
    } finally {
      clientCert = rotated;
    }
  });

  test('server rotation: the open stream keeps working, new sessions see the new certificate', T, async () => {
    const pool = newPool();
    const old = await tunnel(pool);
    const oldSerial = old.serverCertificate?.serialNumber;
    serverCert = issue(ca, SERVER_ID);
    const otherPool = newPool();
    const fresh = await tunnel(otherPool);
    assert.notEqual(fresh.serverCertificate?.serialNumber, oldSerial);
    const reply = readAll(old.stream);
    old.stream.end('still up');
    assert.equal((await reply).toString(), 'still up');
    fresh.stream.end('new');
    assert.equal((await readAll(fresh.stream)).toString(), 'new');
  });
});
