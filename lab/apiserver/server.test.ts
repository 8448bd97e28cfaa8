import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startApiServer, type ApiServer } from './server.js';
import { ObjectStore } from './store.js';

/** Reads a watch stream line by line so tests can wait for specific events. */
function openWatch(url: string, headers: Record<string, string> = {}) {
  const events: { type: string; object: any }[] = [];
  let status = 0;
  let notify = () => {};
  let stop = () => {};
  const ended = new Promise<'end' | 'error'>((resolve) => {
    const req = request(url, { headers }, (res) => {
      status = res.statusCode ?? 0;
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
          events.push(JSON.parse(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
          notify();
        }
      });
      res.on('end', () => resolve('end'));
      res.on('error', () => resolve('error'));
    });
    req.on('error', () => resolve('error'));
    req.end();
    stop = () => req.destroy();
  });
  const waitFor = async (count: number, timeoutMs = 3000): Promise<{ type: string; object: any }[]> => {
    const deadline = Date.now() + timeoutMs;
    while (events.length < count) {
      if (Date.now() > deadline) assert.fail(`expected ${count} watch events, got ${JSON.stringify(events.map((e) => e.type))}`);
      await new Promise<void>((r) => {
        notify = r;
        setTimeout(r, 50);
      });
    }
    return events;
  };
  return { events, ended, waitFor, status: () => status, stop: () => stop() };
}

describe('lab API server over HTTP', () => {
  let store: ObjectStore;
  let server: ApiServer;
  const call = async (method: string, path: string, body?: unknown, contentType = 'application/json', headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { 'Content-Type': contentType, ...headers } };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(server.url + path, init);
    const text = await res.text();
    return { code: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
  };
  const assertStatus = (r: { code: number; body: any }, code: number, reason: string, message?: RegExp) => {
    assert.equal(r.code, code, JSON.stringify(r.body));
    assert.equal(r.body.kind, 'Status');
    assert.equal(r.body.apiVersion, 'v1');
    assert.equal(r.body.status, 'Failure');
    assert.equal(r.body.code, code);
    assert.equal(r.body.reason, reason);
    if (message) assert.match(r.body.message, message);
  };

  before(async () => {
    store = new ObjectStore();
    server = await startApiServer({ store, bookmarkIntervalMs: 50, maxBodyBytes: 64 * 1024 });
  });
  after(() => server.close());

  it('serves health, version and discovery', async () => {
    assert.equal((await call('GET', '/healthz')).body, 'ok');
    assert.equal((await call('GET', '/readyz')).body, 'ok');
    assert.equal((await call('GET', '/version')).body.major, '1');
    const api = await call('GET', '/api');
    assert.deepEqual(api.body.versions, ['v1']);
    const groups = (await call('GET', '/apis')).body;
    assert.equal(groups.kind, 'APIGroupList');
    const names = groups.groups.map((g: any) => g.name);
    for (const g of ['apps', 'discovery.k8s.io', 'coordination.k8s.io', 'ambit.dev', 'gateway.networking.k8s.io']) assert.ok(names.includes(g), g);
    const core = (await call('GET', '/api/v1')).body;
    const pods = core.resources.find((r: any) => r.name === 'pods');
    assert.deepEqual([pods.kind, pods.namespaced, pods.shortNames], ['Pod', true, ['po']]);
    assert.ok(pods.verbs.includes('watch'));
    assert.ok(core.resources.some((r: any) => r.name === 'pods/status'));
    const ambit = (await call('GET', '/apis/ambit.dev/v1alpha1')).body;
    assert.deepEqual(ambit.resources.filter((r: any) => !r.name.includes('/')).map((r: any) => r.kind).sort(), ['AuthorizationPolicy', 'PeerAuthentication', 'TrafficPolicy', 'Waypoint']);
    assert.equal((await call('GET', '/apis/apps')).body.preferredVersion.groupVersion, 'apps/v1');
    assertStatus(await call('GET', '/apis/nope.io/v1'), 404, 'NotFound');
  });

  it('lists the token endpoints in discovery as kube-apiserver does', async () => {
    const core = (await call('GET', '/api/v1')).body;
    assert.deepEqual(core.resources.find((r: any) => r.name === 'serviceaccounts/token'), {
      name: 'serviceaccounts/token',
      singularName: '',
      namespaced: true,
      group: 'authentication.k8s.io',
      version: 'v1',
      kind: 'TokenRequest',
      verbs: ['create'],
    });
    assert.ok((await call('GET', '/apis')).body.groups.some((g: any) => g.name === 'authentication.k8s.io'));
    assert.equal((await call('GET', '/apis/authentication.k8s.io')).body.preferredVersion.groupVersion, 'authentication.k8s.io/v1');
    const authn = (await call('GET', '/apis/authentication.k8s.io/v1')).body;
    assert.deepEqual(authn.resources, [{ name: 'tokenreviews', singularName: 'tokenreview', namespaced: false, kind: 'TokenReview', verbs: ['create'] }]);
  });

  it('issues and reviews service account tokens with 201 Created, and only on POST', async () => {
    store.create('serviceaccounts', { metadata: { name: 'robot', namespace: 'default' } });
    const issued = await call('POST', '/api/v1/namespaces/default/serviceaccounts/robot/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['ambit'] } });
    assert.equal(issued.code, 201, JSON.stringify(issued.body));
    assert.equal(issued.body.kind, 'TokenRequest');
    assert.equal(issued.body.spec.expirationSeconds, 3600);
    const reviewed = await call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: issued.body.status.token, audiences: ['ambit'] } });
    assert.equal(reviewed.code, 201);
    assert.equal(reviewed.body.status.authenticated, true);
    assert.equal(reviewed.body.status.user.username, 'system:serviceaccount:default:robot');
    const unknown = await call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', 'spec:\n  token: nope\n', 'application/yaml');
    assert.deepEqual([unknown.code, unknown.body.status], [201, { user: {}, error: 'invalid bearer token' }]);
    assertStatus(await call('POST', '/api/v1/namespaces/default/serviceaccounts/nobody/token', {}), 404, 'NotFound', /serviceaccounts "nobody" not found/);
    assertStatus(await call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { spec: {} }), 400, 'BadRequest', /token is required/);
    assertStatus(await call('GET', '/api/v1/namespaces/default/serviceaccounts/robot/token'), 405, 'MethodNotAllowed');
    assertStatus(await call('GET', '/apis/authentication.k8s.io/v1/tokenreviews'), 405, 'MethodNotAllowed');
    assertStatus(await call('POST', '/apis/authentication.k8s.io/v1/namespaces/default/tokenreviews', { spec: { token: 'x' } }), 404, 'NotFound');
  });

  it('creates, reads, replaces, patches and deletes over REST with Kubernetes status codes', async () => {
    const base = '/apis/ambit.dev/v1alpha1/namespaces/default/authorizationpolicies';
    const created = await call('POST', base, { apiVersion: 'ambit.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'deny' }, spec: { action: 'DENY' } });
    assert.equal(created.code, 201);
    assert.equal(created.body.metadata.namespace, 'default');
    assertStatus(await call('POST', base, created.body), 409, 'AlreadyExists', /already exists/);
    assert.equal((await call('GET', `${base}/deny`)).body.spec.action, 'DENY');
    const replaced = await call('PUT', `${base}/deny`, { ...created.body, spec: { action: 'ALLOW' } });
    assert.equal(replaced.code, 200);
    assert.equal(replaced.body.metadata.generation, 2);
    assertStatus(await call('PUT', `${base}/deny`, { ...created.body, spec: { action: 'AUDIT' } }), 409, 'Conflict', /has been modified/);
    assertStatus(await call('PUT', `${base}/other`, created.body), 400, 'BadRequest', /does not match the name on the URL/);
    const merged = await call('PATCH', `${base}/deny`, { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json');
    assert.deepEqual(merged.body.metadata.labels, { a: 'b' });
    const json = await call('PATCH', `${base}/deny`, [{ op: 'replace', path: '/spec/action', value: 'AUDIT' }], 'application/json-patch+json');
    assert.equal(json.body.spec.action, 'AUDIT');
    const status = await call('PATCH', `${base}/deny/status`, { status: { conditions: [{ type: 'Accepted', status: 'True' }] }, spec: { action: 'X' } }, 'application/merge-patch+json');
    assert.equal(status.body.status.conditions[0].type, 'Accepted');
    assert.equal(status.body.spec.action, 'AUDIT', 'a status patch cannot change spec');
    assertStatus(await call('PATCH', `${base}/deny`, { a: 1 }, 'text/plain'), 415, 'UnsupportedMediaType');
    const all = await call('GET', '/apis/ambit.dev/v1alpha1/authorizationpolicies');
    assert.equal(all.body.kind, 'AuthorizationPolicyList');
    assert.equal(all.body.items[0].kind, 'AuthorizationPolicy');
    assert.equal(all.body.metadata.resourceVersion, store.resourceVersion);
    const deleted = await call('DELETE', `${base}/deny`);
    assert.equal(deleted.body.metadata.name, 'deny');
    assertStatus(await call('GET', `${base}/deny`), 404, 'NotFound', /"deny" not found/);
  });

  it('serves cluster-scoped types at cluster paths only', async () => {
    assert.equal((await call('POST', '/api/v1/nodes', { metadata: { name: 'node-1' } })).code, 201);
    assert.equal((await call('GET', '/api/v1/nodes/node-1')).body.metadata.namespace, undefined);
    assertStatus(await call('GET', '/api/v1/namespaces/default/nodes'), 404, 'NotFound');
    assert.equal((await call('GET', '/api/v1/namespaces/default')).body.status.phase, 'Active');
    assertStatus(await call('POST', '/api/v1/pods', { metadata: { name: 'x' } }), 405, 'MethodNotAllowed');
    assertStatus(await call('GET', '/api/v1/pods/x'), 404, 'NotFound');
  });

  it('answers garbage with Status errors and keeps serving', async () => {
    const pods = '/api/v1/namespaces/default/pods';
    assertStatus(await call('POST', pods, '{"metadata": {'), 400, 'BadRequest', /neither valid JSON .* nor valid YAML/);
    assertStatus(await call('POST', pods, 'just words'), 400, 'BadRequest', /not a JSON or YAML object/);
    assertStatus(await call('POST', pods, '[1,2]'), 400, 'BadRequest', /must be a JSON or YAML object/);
    assertStatus(await call('POST', pods, 'null'), 400, 'BadRequest');
    assertStatus(await call('POST', pods, ''), 400, 'BadRequest', /empty/);
    assertStatus(await call('POST', pods, 'x'.repeat(100 * 1024)), 413, 'RequestEntityTooLarge');
    assertStatus(await call('POST', pods, { metadata: { name: 'UPPER' } }), 422, 'Invalid');
    assertStatus(await call('GET', '/api/v1/namespaces/default/widgets'), 404, 'NotFound');
    assertStatus(await call('GET', '/nonsense/path'), 404, 'NotFound');
    assertStatus(await call('GET', '/api/v1/namespaces/default/pods/a/b/c'), 404, 'NotFound');
    assertStatus(await call('GET', '/api/v1/namespaces/default/configmaps/a/status'), 404, 'NotFound');
    assertStatus(await call('DELETE', '/api/v1/pods'), 405, 'MethodNotAllowed');
    assertStatus(await call('GET', '/api/v1/%E0%A4%A'), 400, 'BadRequest');
    assertStatus(await call('GET', `${pods}?labelSelector=${encodeURIComponent('app in web')}`), 400, 'BadRequest', /invalid label selector/);
    assertStatus(await call('GET', `${pods}?fieldSelector=nonsense`), 400, 'BadRequest', /invalid field selector/);
    assertStatus(await call('GET', `${pods}?watch=1&labelSelector=${encodeURIComponent('!!')}`), 400, 'BadRequest');
    assertStatus(await call('GET', `${pods}?watch=1&resourceVersion=abc`), 400, 'BadRequest');
    assertStatus(await call('GET', `${pods}?limit=-1`), 400, 'BadRequest');
    assertStatus(await call('PUT', pods, {}), 405, 'MethodNotAllowed');
    const yaml = await call('POST', pods, 'metadata:\n  name: from-yaml\nspec:\n  containers: []\n', 'application/yaml');
    assert.equal(yaml.code, 201);
    assert.equal((await call('GET', '/healthz')).body, 'ok');
    assert.equal((await call('GET', `${pods}/from-yaml`)).code, 200);
  });

  it('returns a meta.k8s.io Table when kubectl asks for one', async () => {
    const accept = { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json' };
    const table = (await call('GET', '/api/v1/pods', undefined, 'application/json', accept)).body;
    assert.equal(table.kind, 'Table');
    assert.equal(table.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(table.columnDefinitions.slice(0, 5).map((c: any) => c.name), ['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    const row = table.rows.find((r: any) => r.cells[0] === 'from-yaml');
    assert.equal(row.cells[2], 'Pending');
    assert.equal(row.object.kind, 'PartialObjectMetadata');
    assert.equal(row.object.metadata.namespace, 'default');
    const ns = (await call('GET', '/api/v1/namespaces/default', undefined, 'application/json', accept)).body;
    assert.deepEqual(ns.rows[0].cells.slice(0, 2), ['default', 'Active']);
  });

  describe('watch', () => {
    const pods = () => `${server.url}/api/v1/namespaces/default/pods`;

    it('starts with ADDED for current objects, then streams changes', async () => {
      store.create('pods', { metadata: { name: 'w1' } });
      const w = openWatch(`${pods()}?watch=true&fieldSelector=metadata.name%3Dw1`);
      await w.waitFor(1);
      store.patch('pods', 'default', 'w1', { metadata: { labels: { x: 'y' } } }, 'merge');
      store.delete('pods', 'default', 'w1');
      const events = await w.waitFor(3);
      assert.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
      assert.equal(events[0]!.object.kind, 'Pod');
      w.stop();
    });

    it('sends DELETED when an object leaves the label selection and ADDED when it returns', async () => {
      store.create('pods', { metadata: { name: 'sel', labels: { role: 'a' } } });
      const w = openWatch(`${pods()}?watch=1&labelSelector=role%3Da&resourceVersion=${store.resourceVersion}`);
      await new Promise((r) => setTimeout(r, 100));
      store.patch('pods', 'default', 'sel', { metadata: { labels: { role: 'b' } } }, 'merge');
      store.patch('pods', 'default', 'sel', { metadata: { labels: { role: 'a' } } }, 'merge');
      const events = await w.waitFor(2);
      assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['DELETED sel', 'ADDED sel']);
      w.stop();
    });

    it('answers a too-old resourceVersion with an ERROR event carrying a 410 Status', async () => {
      const small = new ObjectStore({ historySize: 3 });
      const s = await startApiServer({ store: small });
      try {
        for (let i = 0; i < 5; i++) small.create('configmaps', { metadata: { name: `c${i}` } });
        const w = openWatch(`${s.url}/api/v1/configmaps?watch=1&resourceVersion=1`);
        const [ev] = await w.waitFor(1);
        assert.equal(w.status(), 200);
        assert.equal(ev!.type, 'ERROR');
        assert.equal(ev!.object.code, 410);
        assert.equal(ev!.object.reason, 'Expired');
        assert.equal(await w.ended, 'end');
      } finally {
        await s.close();
      }
    });

    it('sends BOOKMARKs when allowed and ends at timeoutSeconds', async () => {
      const w = openWatch(`${pods()}?watch=1&resourceVersion=${store.resourceVersion}&allowWatchBookmarks=true&timeoutSeconds=1`);
      const started = Date.now();
      const [ev] = await w.waitFor(1);
      assert.equal(ev!.type, 'BOOKMARK');
      assert.equal(ev!.object.kind, 'Pod');
      assert.equal(ev!.object.metadata.resourceVersion, store.resourceVersion);
      assert.equal(await w.ended, 'end');
      const took = Date.now() - started;
      assert.ok(took >= 900 && took < 3000, `timeoutSeconds=1 took ${took} ms`);
    });

    it('streams one-row Tables to a watch that asks for them (kubectl get -w)', async () => {
      const accept = { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' };
      const w = openWatch(`${pods()}?watch=1&resourceVersion=${store.resourceVersion}`, accept);
      await new Promise((r) => setTimeout(r, 100));
      store.create('pods', { metadata: { name: 'tabled' } });
      const [ev] = await w.waitFor(1);
      assert.equal(ev!.type, 'ADDED');
      assert.equal(ev!.object.kind, 'Table');
      assert.equal(ev!.object.rows.length, 1);
      assert.equal(ev!.object.rows[0].cells[0], 'tabled');
      w.stop();
    });

    it('supports the legacy /watch/ path for one object', async () => {
      store.create('pods', { metadata: { name: 'legacy' } });
      const w = openWatch(`${server.url}/api/v1/watch/namespaces/default/pods/legacy`);
      const [ev] = await w.waitFor(1);
      assert.equal(`${ev!.type} ${ev!.object.metadata.name}`, 'ADDED legacy');
      w.stop();
    });

    it('ends watch streams cleanly when the server closes', async () => {
      const own = await startApiServer({ store });
      const w = openWatch(`${own.url}/api/v1/pods?watch=1`);
      await w.waitFor(1);
      await own.close();
      assert.equal(await w.ended, 'end');
      assert.equal((await call('GET', '/healthz')).body, 'ok', 'other servers over the same store are unaffected');
    });
  });

  it('requires the bearer token when one is set, except for health checks', async () => {
    const s = await startApiServer({ store, token: 's3cret' });
    try {
      const unauth = await fetch(`${s.url}/api/v1/pods`);
      assert.equal(unauth.status, 401);
      assert.equal(((await unauth.json()) as any).reason, 'Unauthorized');
      assert.equal((await fetch(`${s.url}/api/v1/pods`, { headers: { Authorization: 'Bearer wrong' } })).status, 401);
      assert.equal((await fetch(`${s.url}/api/v1/pods`, { headers: { Authorization: 'Bearer s3cret' } })).status, 200);
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    } finally {
      await s.close();
    }
  });
});
