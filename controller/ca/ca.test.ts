import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCsr, createRootCa, generateWorkloadKey } from '../../lib/identity/index.js';
import { logger } from '../../lib/log.js';
import { createMeshCaClient, type MeshCaClient } from '../../lib/xds/index.js';
import type { RunningController } from '../app.js';
import { LAB_TOKEN, controllerTarget, createPod, namespace, startLab, startTestController, publishedBundle, tempDir, until, type Lab } from '../fixtures.js';
import { loadOrCreateCa } from './load.js';
import { DirectoryCaStore, SecretCaStore, TRUSTED_ROOTS_KEY } from './store.js';

const log = logger('test', 'ca');

describe('CA stores', () => {
  it('a directory store creates the root once, keeps the key private, and loads it again', async () => {
    const dir = await tempDir();
    try {
      const store = new DirectoryCaStore(join(dir.path, 'ca'));
      assert.equal(await store.load(), undefined);
      const { ca: first } = await loadOrCreateCa(store, { trustDomain: 'cluster.local', log });
      const { ca: again } = await loadOrCreateCa(new DirectoryCaStore(join(dir.path, 'ca')), { trustDomain: 'cluster.local', log });
      assert.equal(again.certPem, first.certPem);
      assert.equal((await stat(join(dir.path, 'ca', 'ca-key.pem'))).mode & 0o777, 0o600);
      // A racing second creator finds the first one's CA and does not overwrite it.
      assert.equal(await store.create(first.toPem()), 'exists');
      await assert.rejects(loadOrCreateCa(store, { trustDomain: 'other.domain', log }), /trust domain/);
    } finally {
      await dir.remove();
    }
  });

  it('trusts the roots stored beside the signing root, except expired ones and duplicates', async () => {
    const dir = await tempDir();
    try {
      const caDir = join(dir.path, 'ca');
      const { ca } = await loadOrCreateCa(new DirectoryCaStore(caDir), { trustDomain: 'cluster.local', log });
      const next = createRootCa({ trustDomain: 'cluster.local' });
      const expired = createRootCa({ trustDomain: 'cluster.local', now: () => Date.now() - 3 * 24 * 3600_000, validityDays: 1 });
      await writeFile(join(caDir, TRUSTED_ROOTS_KEY), next.certPem + expired.certPem + ca.certPem);
      const { bundle } = await loadOrCreateCa(new DirectoryCaStore(caDir), { trustDomain: 'cluster.local', log });
      const fp = (pem: string) => new X509Certificate(pem).fingerprint256;
      assert.deepEqual(bundle.roots.map((r) => r.fingerprint256), [fp(ca.certPem), fp(next.certPem)], 'the signing root first, then the next one');
      await writeFile(join(caDir, TRUSTED_ROOTS_KEY), 'garbage');
      await assert.rejects(loadOrCreateCa(new DirectoryCaStore(caDir), { trustDomain: 'cluster.local', log }), /trusted roots/);
    } finally {
      await dir.remove();
    }
  });

  it('a Secret store creates the Secret once and loads it again', async () => {
    const lab = await startLab();
    try {
      lab.store.create('namespaces', namespace('ambit-system'));
      const store = new SecretCaStore(lab.kc, 'ambit-system', 'ambit-ca');
      assert.equal(await store.load(), undefined);
      const { ca: first } = await loadOrCreateCa(store, { trustDomain: 'cluster.local', log });
      const secret = lab.store.get('secrets', 'ambit-system', 'ambit-ca');
      assert.deepEqual(Object.keys(secret.data as object).sort(), ['ca-cert.pem', 'ca-key.pem']);
      const { ca: again } = await loadOrCreateCa(new SecretCaStore(lab.kc, 'ambit-system', 'ambit-ca'), { trustDomain: 'cluster.local', log });
      assert.equal(again.certPem, first.certPem);
      assert.equal(await store.create(first.toPem()), 'exists');
    } finally {
      await lab.close();
    }
  });
});

describe('MeshCA service', () => {
  let lab: Lab;
  let dir: { path: string; remove(): Promise<void> };
  let ctl: RunningController;
  let clientA: MeshCaClient;
  const clients: MeshCaClient[] = [];
  const client = (token: string | undefined) => {
    const c = createMeshCaClient({ ...controllerTarget(ctl), ...(token ? { token } : {}) });
    clients.push(c);
    return c;
  };
  const csrFor = (uri: string) => createCsr(generateWorkloadKey(), uri);

  before(async () => {
    lab = await startLab();
    dir = await tempDir();
    lab.store.create('namespaces', namespace('shop', { 'ambit.dev/dataplane-mode': 'ambient' }));
    createPod(lab.store, 'web-1', { namespace: 'shop', node: 'node-a', ip: '10.0.1.5', serviceAccount: 'web' });
    createPod(lab.store, 'db-1', { namespace: 'shop', node: 'node-b', ip: '10.0.2.5', serviceAccount: 'db' });
    ctl = await startTestController(lab, join(dir.path, 'ca'), { AMBIT_CERT_TTL: '24h', AMBIT_CERT_MAX_TTL: '48h' });
    await ctl.synced;
    clientA = client('token-a');
  });

  after(async () => {
    for (const c of clients) c.close();
    await ctl?.stop();
    await lab?.close();
    await dir?.remove();
  });

  it('signs a CSR for a service account that has a pod on the agent node', async () => {
    const id = 'spiffe://cluster.local/ns/shop/sa/web';
    const res = await clientA.sign({ csrPem: csrFor(id), spiffeId: id });
    assert.ok(res.ok, res.ok ? '' : res.error.message);
    const leaf = new X509Certificate(res.value.certChainPem);
    assert.equal(leaf.subjectAltName, `URI:${id}`);
    const root = new X509Certificate(ctl.ca.certPem);
    assert.equal(res.value.rootPem, ctl.bundle.rootPem, 'the bundle comes along, for diagnostics');
    assert.ok(leaf.verify(root.publicKey), 'issued by the mesh root');
    const lifetime = Date.parse(leaf.validTo) - Date.parse(leaf.validFrom);
    assert.ok(lifetime > 23 * 3600_000 && lifetime <= 24 * 3600_000 + 10 * 60_000, `default 24h lifetime, got ${lifetime} ms`);
  });

  it('caps the requested lifetime', async () => {
    const id = 'spiffe://cluster.local/ns/shop/sa/web';
    const res = await clientA.sign({ csrPem: csrFor(id), spiffeId: id, ttlSeconds: 30 * 24 * 3600 });
    assert.ok(res.ok);
    const leaf = new X509Certificate(res.value.certChainPem);
    assert.ok(Date.parse(leaf.validTo) - Date.parse(leaf.validFrom) <= 48 * 3600_000 + 10 * 60_000);
  });

  it('refuses a service account whose pods run on another node, and says so', async () => {
    const id = 'spiffe://cluster.local/ns/shop/sa/db';
    const res = await clientA.sign({ csrPem: csrFor(id), spiffeId: id });
    assert.equal(res.ok, false);
    assert.equal(!res.ok && res.error.codeName, 'PERMISSION_DENIED');
    assert.match(!res.ok ? res.error.message : '', /node node-a runs no pod with service account shop\/db/);
    // node-b may have it.
    const b = await client('token-b').sign({ csrPem: csrFor(id), spiffeId: id });
    assert.ok(b.ok);
    const metrics = await ctl.metrics.registry.getSingleMetricAsString('ambit_ca_csr_refused_total');
    assert.match(metrics, /reason="not_on_node"\} 1/);
  });

  it('refuses unauthenticated callers, foreign trust domains and CSRs for another identity', async () => {
    const id = 'spiffe://cluster.local/ns/shop/sa/web';
    const anon = await client(undefined).sign({ csrPem: csrFor(id), spiffeId: id });
    assert.equal(!anon.ok && anon.error.codeName, 'UNAUTHENTICATED');
    const bad = await client('wrong').sign({ csrPem: csrFor(id), spiffeId: id });
    assert.equal(!bad.ok && bad.error.codeName, 'UNAUTHENTICATED');
    const other = 'spiffe://other.domain/ns/shop/sa/web';
    const td = await clientA.sign({ csrPem: csrFor(other), spiffeId: other });
    assert.equal(!td.ok && td.error.codeName, 'PERMISSION_DENIED');
    // The CSR asks for db while the request claims web: the CSR's SAN must be the authorized identity.
    const mismatch = await clientA.sign({ csrPem: csrFor('spiffe://cluster.local/ns/shop/sa/db'), spiffeId: id });
    assert.equal(!mismatch.ok && mismatch.error.codeName, 'INVALID_ARGUMENT');
    const garbage = await clientA.sign({ csrPem: 'not a csr', spiffeId: id });
    assert.equal(!garbage.ok && garbage.error.codeName, 'INVALID_ARGUMENT');
  });

  it("gives a Waypoint's proxy its Waypoint's identity and no other, even for pods on its node", async () => {
    lab.store.create('serviceaccounts', { metadata: { name: 'wp', namespace: 'shop' } });
    lab.store.create('waypoints', { apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name: 'wp', namespace: 'shop' }, spec: {} });
    const pod = createPod(lab.store, 'wp-1', { namespace: 'shop', node: 'node-a', ip: '10.0.1.9', serviceAccount: 'wp', labels: { 'ambit.dev/waypoint': 'wp' } });
    const res = await fetch(`${lab.api.url}/api/v1/namespaces/shop/serviceaccounts/wp/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${LAB_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['ambit-controller'], boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'wp-1', uid: pod.metadata.uid } } }),
    });
    const token = ((await res.json()) as { status: { token: string } }).status.token;
    const proxy = client(token);
    const own = 'spiffe://cluster.local/ns/shop/sa/wp';
    await until('the model knows the Waypoint and its pod', async () => (await proxy.sign({ csrPem: csrFor(own), spiffeId: own })).ok);
    const web = 'spiffe://cluster.local/ns/shop/sa/web';
    const other = await proxy.sign({ csrPem: csrFor(web), spiffeId: web });
    assert.equal(!other.ok && other.error.codeName, 'PERMISSION_DENIED');
    assert.match(!other.ok ? other.error.message : '', /a proxy of Waypoint shop\/wp may only have that waypoint's identity, not spiffe:\/\/cluster\.local\/ns\/shop\/sa\/web/);
  });

  it('keeps the same root across a controller restart', async () => {
    const before = ctl.ca.certPem;
    await ctl.stop();
    ctl = await startTestController(lab, join(dir.path, 'ca'));
    await ctl.synced;
    assert.equal(ctl.ca.certPem, before);
    const id = 'spiffe://cluster.local/ns/shop/sa/web';
    const res = await client('token-a').sign({ csrPem: csrFor(id), spiffeId: id });
    assert.ok(res.ok);
    assert.ok(new X509Certificate(res.value.certChainPem).verify(new X509Certificate(before).publicKey));
  });

  it('publishes the trust bundle out of band, to ConfigMap ambit-root-ca in its namespace', async () => {
    await until('published', () => publishedBundle(lab.store) !== undefined);
    assert.equal(publishedBundle(lab.store), ctl.bundle.rootPem);
    // Someone edits it: the next resync puts it back (here: a restart, which publishes at once).
    lab.store.patch('configmaps', 'ambit-system', 'ambit-root-ca', { data: { 'root-cert.pem': 'tampered' } }, 'merge');
    await ctl.stop();
    ctl = await startTestController(lab, join(dir.path, 'ca'));
    await until('repaired', () => publishedBundle(lab.store) === ctl.bundle.rootPem);
  });
});
