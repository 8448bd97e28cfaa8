/**
 * The agent's side of the control plane against real sockets: the controller link and the
 * certificate manager exactly as the agent wires them, talking to impostors on the
 * controller's address (another CA, plaintext) and to the real controller through a root
 * rotation and serving-certificate renewals.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { ControllerOverrides, RunningController } from '../controller/app.js';
import { CERT_KEY, KEY_KEY, TRUSTED_ROOTS_KEY } from '../controller/ca/index.js';
import {
  CONTROLLER_IDENTITY,
  CONTROLLER_SERVER_NAME,
  createPod,
  namespace,
  publishedBundle,
  startLab,
  startTestController,
  tempDir,
  until,
  type Lab,
} from '../controller/fixtures.js';
import { createRootCa, createTrustBundle, issueServingCertificate, staticTrust, TrustBundleFile, type TrustSource } from '../lib/identity/index.js';
import { logger } from '../lib/log.js';
import { loadAmbitProtos, type ControlPlaneSecurity } from '../lib/xds/index.js';
import { connectController } from './controller.js';
import { CertManager } from './identity/certs.js';

const log = logger('test', 'control-plane');
const TOKEN = 'token-a';
const WEB = 'spiffe://cluster.local/ns/shop/sa/web';
const DB = 'spiffe://cluster.local/ns/shop/sa/db';

const tlsTo = (trust: TrustSource): ControlPlaneSecurity => ({ kind: 'tls', trust, serverName: CONTROLLER_SERVER_NAME, identity: CONTROLLER_IDENTITY });

/** The agent's control-plane clients, as app.ts builds them, recording what they applied. */
function agent(address: string, security: ControlPlaneSecurity, trust: TrustSource) {
  const updates: string[] = [];
  const link = connectController({
    address,
    security,
    token: TOKEN,
    nodeName: 'node-a',
    onUpdate: (type, upserts, removals) => {
      updates.push(`${type}:+${upserts.length}-${removals.length}`);
      return { ok: true };
    },
    log,
  });
  const certs = new CertManager({ ca: link.ca, trust, log });
  return {
    link,
    certs,
    updates,
    stop: async () => {
      certs.close();
      await link.stop();
    },
  };
}

/** A gRPC server on the controller's protocol that records every call and its metadata, and answers none. */
async function fakeController(credentials: grpc.ServerCredentials): Promise<{ address: string; calls: { method: string; authorization: grpc.MetadataValue[] }[]; stop(): void }> {
  const calls: { method: string; authorization: grpc.MetadataValue[] }[] = [];
  const server = new grpc.Server();
  const protos = loadAmbitProtos();
  server.addService(protos.meshConfig, {
    Stream: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
      calls.push({ method: 'Stream', authorization: call.metadata.get('authorization') });
      call.on('error', () => undefined);
    },
  });
  server.addService(protos.meshCa, {
    Sign: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      calls.push({ method: 'Sign', authorization: call.metadata.get('authorization') });
      cb({ code: grpc.status.UNAVAILABLE, details: 'fake' });
    },
  });
  const port = await new Promise<number>((r, j) => server.bindAsync('127.0.0.1:0', credentials, (e, p) => (e ? j(e) : r(p))));
  return { address: `127.0.0.1:${port}`, calls, stop: () => server.forceShutdown() };
}

/** A server certificate for the controller's exact names, from whichever CA the test picks. */
function impostorCredentials(ca: ReturnType<typeof createRootCa>): grpc.ServerCredentials {
  const s = issueServingCertificate(ca, { spiffeId: CONTROLLER_IDENTITY, dnsNames: [CONTROLLER_SERVER_NAME], ttlMs: 3600_000 });
  return grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(s.certChainPem), private_key: Buffer.from(s.keyPem) }], false);
}

interface Cluster {
  lab: Lab;
  dir: { path: string; remove(): Promise<void> };
  /** The controller; a test that restarts it puts the new one here. */
  ctl: RunningController;
  caDir: string;
}

/** For the enclosing describe: a lab API server with web and db pods on node-a, and a controller on it. */
function withController(over: ControllerOverrides = {}): Cluster {
  const c = {} as Cluster;
  before(async () => {
    c.lab = await startLab();
    c.dir = await tempDir();
    c.caDir = join(c.dir.path, 'ca');
    c.lab.store.create('namespaces', namespace('shop', { 'ambit.dev/dataplane-mode': 'ambient' }));
    createPod(c.lab.store, 'web-1', { namespace: 'shop', node: 'node-a', ip: '10.0.1.5', serviceAccount: 'web' });
    createPod(c.lab.store, 'db-1', { namespace: 'shop', node: 'node-a', ip: '10.0.1.6', serviceAccount: 'db' });
    c.ctl = await startTestController(c.lab, c.caDir, {}, over);
    await c.ctl.synced;
  });
  after(async () => {
    await c.ctl?.stop();
    await c.lab?.close();
    await c.dir?.remove();
  });
  return c;
}

describe('the agent and the controller address', { timeout: 120_000 }, () => {
  const c = withController();
  const bundle = () => c.ctl.bundle;

  it('control: an impostor holding the real CA would see the token, so the checks below can see a leak', async () => {
    // (Only the controller holds the CA key; the test borrows it to prove the fake records what it gets.)
    const fake = await fakeController(impostorCredentials(c.ctl.ca));
    const a = agent(fake.address, tlsTo(staticTrust(bundle())), staticTrust(bundle()));
    try {
      await until('the fake saw a call', () => fake.calls.length > 0);
      assert.deepEqual(fake.calls[0]!.authorization, [`Bearer ${TOKEN}`]);
    } finally {
      await a.stop();
      fake.stop();
    }
  });

  it('a fake controller with a certificate from another CA gets no token and pushes no config', async () => {
    const fake = await fakeController(impostorCredentials(createRootCa({ trustDomain: 'cluster.local' })));
    const a = agent(fake.address, tlsTo(staticTrust(bundle())), staticTrust(bundle()));
    try {
      await assert.rejects(a.certs.get(WEB), /UNAVAILABLE/);
      await until('a failed connection attempt', () => a.link.xds.status().lastError !== undefined);
      await new Promise((r) => setTimeout(r, 1500)); // and the reconnects after it
      assert.deepEqual(fake.calls, [], 'no call reached the fake: no token, no CSR');
      assert.deepEqual(a.updates, []);
      assert.notEqual(a.link.xds.status().state, 'connected');
      assert.match(a.link.xds.status().lastError ?? '', /certificate/i);
      assert.equal(a.certs.current(WEB), undefined);
    } finally {
      await a.stop();
      fake.stop();
    }
  });

  it('a plaintext fake controller gets no token either: it sees a TLS ClientHello and nothing else', async () => {
    const fake = await fakeController(grpc.ServerCredentials.createInsecure());
    const a = agent(fake.address, tlsTo(staticTrust(bundle())), staticTrust(bundle()));
    // And on the raw byte level: everything a plaintext listener receives.
    const received: Buffer[] = [];
    const raw: Server = createServer((s) => {
      s.on('data', (d: Buffer) => received.push(d));
      s.on('error', () => undefined);
      setTimeout(() => s.destroy(), 500);
    });
    raw.listen(0, '127.0.0.1');
    await once(raw, 'listening');
    const b = agent(`127.0.0.1:${(raw.address() as AddressInfo).port}`, tlsTo(staticTrust(bundle())), staticTrust(bundle()));
    try {
      await assert.rejects(a.certs.get(WEB), /UNAVAILABLE/);
      await until('failed attempts', () => a.link.xds.status().lastError !== undefined && received.length > 0);
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual(fake.calls, []);
      assert.deepEqual(a.updates, []);
      assert.notEqual(a.link.xds.status().state, 'connected');
      const bytes = Buffer.concat(received);
      assert.equal(bytes[0], 0x16, 'a TLS handshake record');
      assert.equal(bytes.includes(TOKEN), false, 'the token is not in anything it sent');
      assert.equal(bytes.includes('authorization'), false);
      assert.deepEqual(b.updates, []);
    } finally {
      await a.stop();
      await b.stop();
      fake.stop();
      raw.close();
    }
  });

  it('refuses the real CA certificate of something that is not the controller (a workload certificate)', async () => {
    const s = issueServingCertificate(c.ctl.ca, { spiffeId: WEB, dnsNames: ['web.shop.svc'], ttlMs: 3600_000 });
    const fake = await fakeController(grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(s.certChainPem), private_key: Buffer.from(s.keyPem) }], false));
    const a = agent(fake.address, tlsTo(staticTrust(bundle())), staticTrust(bundle()));
    try {
      await until('a failed connection attempt', () => a.link.xds.status().lastError !== undefined);
      assert.deepEqual(fake.calls, []);
      assert.match(a.link.xds.status().lastError ?? '', /AMBIT_ERR_CONTROLLER_TLS|not valid for ambit-controller/);
    } finally {
      await a.stop();
      fake.stop();
    }
  });

  it('plaintext needs the development flag on both sides', async () => {
    // A second replica, same CA, with the flag.
    const plain = await startTestController(c.lab, c.caDir, { AMBIT_INSECURE_CONTROL_PLANE: 'true' });
    await plain.synced;
    assert.equal(plain.serving, undefined);
    const secure = agent(`127.0.0.1:${plain.grpcPort}`, tlsTo(staticTrust(bundle())), staticTrust(bundle()));
    const flagged = agent(`127.0.0.1:${plain.grpcPort}`, { kind: 'insecure' }, staticTrust(bundle()));
    try {
      await flagged.link.xds.synced;
      assert.equal((await flagged.certs.get(WEB)).spiffeId.uri, WEB, 'workload certificates still verify against the bundle');
      await until('the TLS agent gave up on it', () => secure.link.xds.status().lastError !== undefined);
      assert.deepEqual(secure.updates, []);
      assert.match(flagged.link.describe, /PLAINTEXT/);
    } finally {
      await secure.stop();
      await flagged.stop();
      await plain.stop();
    }
  });

  it('the real controller: config over a verified channel, and certificates that chain to the bundle', async () => {
    const a = agent(`127.0.0.1:${c.ctl.grpcPort}`, tlsTo(staticTrust(bundle())), staticTrust(bundle()));
    try {
      await a.link.xds.synced;
      const cert = await a.certs.get(WEB);
      assert.equal(cert.spiffeId.uri, WEB);
      assert.equal(cert.rootPem, bundle().rootPem);
      assert.match(a.link.describe, /^TLS, verified as ambit-controller\.ambit-system\.svc and spiffe:/);
    } finally {
      await a.stop();
    }
  });
});

describe('serving-certificate renewal', { timeout: 120_000 }, () => {
  // A 4 s certificate: renewed about every 2 s.
  const c = withController({ servingCertTtlMs: 4000 });

  /** The serial of the certificate a new TLS connection to 15010 is shown. */
  const servedSerial = async (): Promise<string> => {
    const s = tls.connect({ host: '127.0.0.1', port: c.ctl.grpcPort, servername: CONTROLLER_SERVER_NAME, ca: c.ctl.bundle.rootPem, ALPNProtocols: ['h2'] });
    await once(s, 'secureConnect');
    const serial = s.getPeerX509Certificate()!.serialNumber;
    s.destroy();
    return serial;
  };

  it('swaps each renewal into the running server; an open stream stays, loses no config, and new connections verify', async () => {
    const trust = staticTrust(c.ctl.bundle);
    const a = agent(`127.0.0.1:${c.ctl.grpcPort}`, tlsTo(trust), trust);
    try {
      await a.link.xds.synced;
      const first = c.ctl.serving!.current().serial;
      assert.equal(await servedSerial(), first);
      const seen = new Set([first]);
      let pods = 0;
      // Through at least three renewals, keep changing the model: each change must arrive on the same stream.
      await until(
        'three renewals',
        async () => {
          seen.add(c.ctl.serving!.current().serial);
          createPod(c.lab.store, `p-${++pods}`, { namespace: 'shop', node: 'node-a', ip: `10.0.3.${pods}`, serviceAccount: 'web' });
          await new Promise((r) => setTimeout(r, 200));
          return seen.size >= 4;
        },
        20_000,
      );
      await until('every pod pushed', () => a.updates.filter((u) => u.startsWith('Workload:')).reduce((n, u) => n + Number(/\+(\d+)/.exec(u)![1]), 0) >= pods);
      const status = a.link.xds.status();
      assert.equal(status.connects, 1, 'one stream all along');
      assert.equal(status.state, 'connected');
      const now = await servedSerial();
      assert.equal(now, c.ctl.serving!.current().serial, 'a new connection gets the current certificate');
      assert.notEqual(now, first);
      assert.ok(new X509Certificate(c.ctl.serving!.current().certChainPem).checkHost(CONTROLLER_SERVER_NAME));
      // A new agent verifies the renewed certificate.
      const b = agent(`127.0.0.1:${c.ctl.grpcPort}`, tlsTo(trust), trust);
      await b.link.xds.synced;
      await b.stop();
      const metrics = await c.ctl.metrics.registry.getSingleMetricAsString('ambit_ca_serving_certificates_issued_total');
      assert.match(metrics, /ambit_ca_serving_certificates_issued_total ([4-9]|\d\d)/);
    } finally {
      await a.stop();
    }
  });
});

describe('root rotation with an overlap', { timeout: 120_000 }, () => {
  const c = withController();
  let trustDir: string;
  let agentLink: ReturnType<typeof agent>['link'] | undefined;
  let connectsBefore = 0;
  const reconnected = () => until('the agent reconnected and verified the controller', () => agentLink!.xds.status().state === 'connected' && agentLink!.xds.status().connects > connectsBefore);

  /** The operator's change to the CA store, then a rolling restart of the controller (same port). */
  const restart = async () => {
    connectsBefore = agentLink!.xds.status().connects;
    const port = c.ctl.grpcPort;
    await c.ctl.stop();
    c.ctl = await startTestController(c.lab, c.caDir, { AMBIT_GRPC_PORT: String(port) });
    await c.ctl.synced;
    await until('the new bundle published', () => publishedBundle(c.lab.store) === c.ctl.bundle.rootPem);
  };
  /** What kubelet does with the ConfigMap volume: the file follows the ConfigMap. */
  const project = async (file: TrustBundleFile) => {
    await writeFile(join(trustDir, 'root-cert.pem'), publishedBundle(c.lab.store)!);
    await file.reload();
  };

  before(async () => (trustDir = await mkdtemp(join(tmpdir(), 'ambit-agent-root-ca-'))));
  after(async () => rm(trustDir, { recursive: true, force: true }));

  it('old and new roots are both trusted during the overlap; the agent follows the controller to the new root', async () => {
    await until('published', () => publishedBundle(c.lab.store) !== undefined);
    await writeFile(join(trustDir, 'root-cert.pem'), publishedBundle(c.lab.store)!);
    const opened = await TrustBundleFile.open({ path: join(trustDir, 'root-cert.pem'), trustDomain: 'cluster.local', log, pollMs: 3_600_000 });
    assert.ok(opened.ok);
    const file = opened.value;
    const a = agent(`127.0.0.1:${c.ctl.grpcPort}`, tlsTo(file), file);
    agentLink = a.link;
    const oldRoot = c.ctl.ca.certPem;
    try {
      await a.link.xds.synced;
      const oldCert = await a.certs.get(WEB);

      // 1. The new root is added to the store's trusted roots: published beside the old one, nobody signs with it yet.
      const next = createRootCa({ trustDomain: 'cluster.local' });
      await writeFile(join(c.caDir, TRUSTED_ROOTS_KEY), next.certPem);
      await restart();
      await project(file);
      assert.equal(file.current().roots.length, 2);
      await reconnected();

      // An agent whose bundle has only the new root does not trust the old controller: it sends it nothing.
      const onlyNext = createTrustBundle('cluster.local', next.certPem);
      assert.ok(onlyNext.ok);
      const early = agent(`127.0.0.1:${c.ctl.grpcPort}`, tlsTo(staticTrust(onlyNext.value)), staticTrust(onlyNext.value));
      await until('refused', () => early.link.xds.status().lastError !== undefined);
      assert.match(early.link.xds.status().lastError ?? '', /certificate/i);
      assert.deepEqual(early.updates, []);
      await early.stop();

      // 2. The switch: the new root signs, the old one is kept trusted. The controller's new
      //    serving certificate chains to the new root: the agent verifies it with the bundle it has.
      const { certPem, keyPem } = next.toPem();
      await writeFile(join(c.caDir, CERT_KEY), certPem);
      await writeFile(join(c.caDir, KEY_KEY), keyPem);
      await writeFile(join(c.caDir, TRUSTED_ROOTS_KEY), oldRoot);
      await restart();
      await project(file);
      assert.equal(c.ctl.ca.certPem, certPem);
      await reconnected();
      createPod(c.lab.store, 'web-2', { namespace: 'shop', node: 'node-a', ip: '10.0.1.7', serviceAccount: 'web' });
      await until('config after the switch', () => a.updates.length > 0 && a.updates.at(-1) === 'Workload:+1-0');
      const newCert = await a.certs.get(DB);
      assert.ok(new X509Certificate(newCert.certChainPem).verify(new X509Certificate(certPem).publicKey), 'new certificates chain to the new root');
      assert.equal(a.certs.current(WEB)!.certChainPem, oldCert.certChainPem, 'old ones stay valid through the overlap');

      // 3. After the longest certificate lifetime, the old root goes: its certificates are renewed at once.
      await unlink(join(c.caDir, TRUSTED_ROOTS_KEY));
      await restart();
      await project(file);
      assert.equal(file.current().roots.length, 1);
      await until('renewed under the new root', () => {
        const c = a.certs.current(WEB);
        return c !== undefined && c.certChainPem !== oldCert.certChainPem;
      });
      assert.ok(new X509Certificate(a.certs.current(WEB)!.certChainPem).verify(new X509Certificate(certPem).publicKey));
      await reconnected();
    } finally {
      await a.stop();
      file.close();
    }
  });
});
