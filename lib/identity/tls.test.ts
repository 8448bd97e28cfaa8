/** In-process mutual TLS 1.3 handshakes on 127.0.0.1:0 with mesh workload certificates. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { HOUR, TD, issue, testCa } from './fixtures.js';
import {
  classifyTlsFailure,
  createTrustBundle,
  meshClientTlsOptions,
  meshTlsOptions,
  peerIdentity,
  verifyPeerChain,
  type TrustBundle,
  type WorkloadTlsMaterial,
} from './verify.js';

const ca = testCa();
const SERVER_ID = 'spiffe://cluster.local/ns/shop/sa/server';
const CLIENT_ID = 'spiffe://cluster.local/ns/shop/sa/client';
const server = issue(ca, SERVER_ID);
const client = issue(ca, CLIENT_ID);
const trust = (createTrustBundle(TD, ca.certPem) as { value: TrustBundle }).value;

/** Resolves on 'close' (unlike events.once, an 'error' first does not reject). */
const closed = (sock: tls.TLSSocket): Promise<void> =>
  new Promise((resolve) => {
    sock.on('error', () => {});
    sock.on('close', () => resolve());
  });

interface Outcome {
  clientPeer?: string;
  clientError?: Error & { code?: string };
  /** classifyTlsFailure of the client's error */
  clientReason?: string;
  serverPeer?: string;
  serverPeerFull?: string;
  serverError?: Error & { code?: string };
  /** classifyTlsFailure of the server's tlsClientError */
  serverReason?: string;
  reply?: string;
}

/** One connection from `c` to a fresh server presenting `s`; reports what each side saw. */
async function handshake(s: WorkloadTlsMaterial, c: WorkloadTlsMaterial, expectServer: string | undefined = SERVER_ID): Promise<Outcome> {
  const out: Outcome = {};
  const srv = tls.createServer(meshTlsOptions(s), (sock) => {
    const id = peerIdentity(sock, TD);
    out.serverPeer = id.ok ? id.value.uri : `!${id.error.reason}`;
    // the full check also works on the chain Node hands out (leaf linked to its issuers)
    const full = verifyPeerChain(sock.getPeerX509Certificate()!, trust);
    out.serverPeerFull = full.ok ? full.value.uri : `!${full.error.reason}`;
    sock.on('error', () => {});
    sock.end('hello');
  });
  const serverDone = new Promise<void>((resolve) => {
    srv.on('secureConnection', () => resolve());
    srv.on('tlsClientError', (e, sock) => {
      out.serverError = e;
      out.serverReason = classifyTlsFailure(e, sock)?.reason;
      resolve();
    });
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as AddressInfo;
  try {
    const opts = expectServer === undefined ? meshTlsOptions(c) : meshClientTlsOptions(c, expectServer);
    const sock = tls.connect({ ...opts, host: '127.0.0.1', port });
    let reply = '';
    sock.on('secureConnect', () => {
      const id = peerIdentity(sock, TD);
      out.clientPeer = id.ok ? id.value.uri : `!${id.error.reason}`;
    });
    sock.on('data', (d: Buffer) => (reply += d.toString()));
    sock.on('error', (e) => {
      out.clientError = e;
      out.clientReason = classifyTlsFailure(e)?.reason;
    });
    await closed(sock);
    if (reply) out.reply = reply;
    await Promise.race([serverDone, new Promise((r) => setTimeout(r, 1000))]);
    return out;
  } finally {
    srv.close();
  }
}

test('mutual TLS 1.3 between two workloads of one CA: both learn the peer identity', async () => {
  const o = await handshake(server, client);
  assert.equal(o.clientError, undefined);
  assert.equal(o.serverError, undefined);
  assert.equal(o.serverPeer, CLIENT_ID);
  assert.equal(o.serverPeerFull, CLIENT_ID);
  assert.equal(o.clientPeer, SERVER_ID);
  assert.equal(o.reply, 'hello');
});

test('the client refuses a server with a valid certificate but the wrong identity', async () => {
  const o = await handshake(server, client, 'spiffe://cluster.local/ns/shop/sa/payments');
  assert.equal(o.clientError?.code, 'AMBIT_ERR_CERT_INVALID');
  assert.match(o.clientError!.message, /unexpected-identity.*sa\/server/);
  assert.equal(o.clientReason, 'unexpected-identity');
  assert.equal(o.reply, undefined);
});

test('the server refuses a client certificate from another CA', async () => {
  const stranger = issue(testCa(), CLIENT_ID);
  const o = await handshake(server, { ...stranger, rootPem: ca.certPem });
  assert.ok(o.serverError, 'server saw a TLS client error');
  assert.equal(o.serverReason, 'wrong-ca');
  assert.equal(o.serverPeer, undefined, 'no secure connection on the server');
  assert.equal(o.reply, undefined);
});

test('the client refuses a server certificate from another CA', async () => {
  const stranger = issue(testCa(), SERVER_ID);
  const o = await handshake({ ...stranger, rootPem: stranger.rootPem }, client);
  assert.match(String(o.clientError?.code), /UNABLE_TO_VERIFY|SELF_SIGNED_CERT_IN_CHAIN|LEAF_SIGNATURE/);
  assert.equal(o.clientReason, 'wrong-ca');
  assert.equal(o.clientPeer, undefined);
});

test('the server refuses an expired client certificate', async () => {
  const expired = issue(ca, CLIENT_ID, { now: Date.now() - 3 * 24 * HOUR, ttlMs: HOUR });
  assert.ok(expired.isExpired(Date.now()));
  const o = await handshake(server, expired);
  assert.ok(o.serverError, 'server saw a TLS client error');
  assert.equal(o.serverReason, 'expired');
  assert.equal(o.serverPeer, undefined);
  assert.equal(o.reply, undefined);
});

test('the server refuses a client without a certificate', async () => {
  const { key: _k, cert: _c, ...anonymous } = meshClientTlsOptions(client, SERVER_ID);
  const out: Outcome = {};
  const srv = tls.createServer(meshTlsOptions(server), (sock) => sock.end('hello'));
  srv.on('tlsClientError', (e, s) => {
    out.serverError = e;
    out.serverReason = classifyTlsFailure(e, s)?.reason;
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const sock = tls.connect({ ...anonymous, host: '127.0.0.1', port: (srv.address() as AddressInfo).port });
  let reply = '';
  sock.on('data', (d: Buffer) => (reply += d.toString()));
  await closed(sock);
  srv.close();
  assert.equal(reply, '');
  assert.equal(out.serverReason, 'malformed');
});
