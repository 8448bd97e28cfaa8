import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authorize, forbiddenMessage, resourceMatches, ruleAllows, type PolicyRule, type RbacSource, type RequestAttributes, type User } from './rbac.js';
import { resourceAttributes } from './request-info.js';
import { findByPath } from './resources.js';
import { startApiServer, type ApiServer, type AuditEntry } from './server.js';
import { ObjectStore } from './store.js';
import type { KubeObject } from './types.js';

const sa = (ns: string, name: string): User => ({ username: `system:serviceaccount:${ns}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] });
const req = (r: Partial<RequestAttributes> & Pick<RequestAttributes, 'verb' | 'resource'>): RequestAttributes => ({ apiGroup: '', ...r });
const obj = (o: object): KubeObject => o as KubeObject;

describe('RBAC rules', () => {
  it('matches verbs, groups and resources exactly or by *', () => {
    const rule: PolicyRule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] };
    assert.ok(ruleAllows(rule, req({ verb: 'get', resource: 'pods' })));
    assert.ok(!ruleAllows(rule, req({ verb: 'watch', resource: 'pods' })));
    assert.ok(!ruleAllows(rule, req({ verb: 'get', resource: 'pods', apiGroup: 'apps' })));
    assert.ok(!ruleAllows(rule, req({ verb: 'get', resource: 'services' })));
    assert.ok(ruleAllows({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, req({ verb: 'deletecollection', resource: 'x', apiGroup: 'y.io' })));
  });

  it('treats a subresource as its own resource: pods does not cover pods/status, * and */status do', () => {
    assert.ok(!resourceMatches({ resources: ['waypoints'] }, 'waypoints', 'status'));
    assert.ok(resourceMatches({ resources: ['waypoints/status'] }, 'waypoints', 'status'));
    assert.ok(!resourceMatches({ resources: ['waypoints/status'] }, 'waypoints', undefined));
    assert.ok(resourceMatches({ resources: ['*'] }, 'waypoints', 'status'));
    assert.ok(resourceMatches({ resources: ['*/status'] }, 'pods', 'status'));
    assert.ok(!resourceMatches({ resources: ['*/status'] }, 'pods', 'log'));
    // upstream has no `resource/*` form
    assert.ok(!resourceMatches({ resources: ['pods/*'] }, 'pods', 'status'));
  });

  it('limits to resourceNames only requests that name an object (never create or an unnamed list)', () => {
    const rule: PolicyRule = { verbs: ['get', 'create', 'list'], apiGroups: [''], resources: ['secrets'], resourceNames: ['ambit-ca'] };
    assert.ok(ruleAllows(rule, req({ verb: 'get', resource: 'secrets', name: 'ambit-ca' })));
    assert.ok(!ruleAllows(rule, req({ verb: 'get', resource: 'secrets', name: 'other' })));
    assert.ok(!ruleAllows(rule, req({ verb: 'create', resource: 'secrets' })));
    assert.ok(!ruleAllows(rule, req({ verb: 'list', resource: 'secrets' })));
  });

  it('derives attributes like RequestInfoFactory (watch, deletecollection, a list by metadata.name is named)', () => {
    const pods = findByPath('', 'v1', 'pods')!;
    const q = (s: string) => new URLSearchParams(s);
    assert.deepEqual(resourceAttributes('GET', { resource: pods, watchPath: false }, q('')), { verb: 'list', apiGroup: '', resource: 'pods' });
    assert.equal(resourceAttributes('GET', { resource: pods, watchPath: false, namespace: 'a' }, q('watch=true')).verb, 'watch');
    assert.equal(resourceAttributes('GET', { resource: pods, watchPath: true }, q('')).verb, 'watch');
    assert.equal(resourceAttributes('DELETE', { resource: pods, watchPath: false, namespace: 'a' }, q('')).verb, 'deletecollection');
    assert.equal(resourceAttributes('PATCH', { resource: pods, watchPath: false, namespace: 'a', name: 'p', subresource: 'status' }, q('')).subresource, 'status');
    assert.equal(resourceAttributes('GET', { resource: pods, watchPath: false, namespace: 'a' }, q('fieldSelector=metadata.name%3Dp1')).name, 'p1');
  });
});

describe('RBAC bindings', () => {
  const src: RbacSource = {
    clusterRoles: () => [obj({ metadata: { name: 'reader' }, rules: [{ verbs: ['list', 'watch'], apiGroups: [''], resources: ['pods'] }] }), obj({ metadata: { name: 'cm-writer' }, rules: [{ verbs: ['update'], apiGroups: [''], resources: ['configmaps'] }] })],
    clusterRoleBindings: () => [obj({ metadata: { name: 'reader' }, roleRef: { kind: 'ClusterRole', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'ctl', namespace: 'sys' }] })],
    roles: (ns) => (ns === 'sys' ? [obj({ metadata: { name: 'ca', namespace: 'sys' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['ambit-ca'] }] })] : []),
    roleBindings: (ns) =>
      ns === 'sys'
        ? [
            obj({ metadata: { name: 'ca', namespace: 'sys' }, roleRef: { kind: 'Role', name: 'ca' }, subjects: [{ kind: 'ServiceAccount', name: 'ctl', namespace: 'sys' }] }),
            obj({ metadata: { name: 'cm', namespace: 'sys' }, roleRef: { kind: 'ClusterRole', name: 'cm-writer' }, subjects: [{ kind: 'Group', name: 'system:serviceaccounts:sys' }] }),
          ]
        : [],
  };

  it('a ClusterRoleBinding grants in every namespace and at the cluster scope', () => {
    assert.ok(authorize(src, sa('sys', 'ctl'), req({ verb: 'list', resource: 'pods' })).allowed);
    assert.ok(authorize(src, sa('sys', 'ctl'), req({ verb: 'watch', resource: 'pods', namespace: 'app' })).allowed);
    assert.ok(!authorize(src, sa('sys', 'other'), req({ verb: 'list', resource: 'pods' })).allowed);
  });

  it('a RoleBinding grants only in its namespace, also when it binds a ClusterRole, and to groups', () => {
    assert.ok(authorize(src, sa('sys', 'ctl'), req({ verb: 'get', resource: 'secrets', namespace: 'sys', name: 'ambit-ca' })).allowed);
    assert.ok(!authorize(src, sa('sys', 'ctl'), req({ verb: 'get', resource: 'secrets', namespace: 'app', name: 'ambit-ca' })).allowed);
    assert.ok(authorize(src, sa('sys', 'anyone'), req({ verb: 'update', resource: 'configmaps', namespace: 'sys', name: 'x' })).allowed);
    assert.ok(!authorize(src, sa('sys', 'anyone'), req({ verb: 'update', resource: 'configmaps', name: 'x' })).allowed);
  });

  it("words a refusal as kube-apiserver does", () => {
    assert.equal(
      forbiddenMessage(sa('sys', 'ctl'), req({ verb: 'list', resource: 'nodes' })),
      'nodes is forbidden: User "system:serviceaccount:sys:ctl" cannot list resource "nodes" in API group "" at the cluster scope',
    );
    assert.equal(
      forbiddenMessage(sa('sys', 'ctl'), req({ verb: 'patch', resource: 'waypoints', subresource: 'status', apiGroup: 'ambit.dev', namespace: 'a', name: 'w' })),
      'waypoints/status "w" is forbidden: User "system:serviceaccount:sys:ctl" cannot patch resource "waypoints/status" in API group "ambit.dev" in the namespace "a"',
    );
  });
});

describe('API server with RBAC', () => {
  const store = new ObjectStore();
  const audit: AuditEntry[] = [];
  let api: ApiServer;
  let token = '';
  const admin = 'admin-token';

  before(async () => {
    api = await startApiServer({ store, auth: { adminToken: admin, audit: (e) => audit.push(e) } });
    store.create('namespaces', { metadata: { name: 'sys' } });
    store.create('serviceaccounts', { metadata: { name: 'ctl', namespace: 'sys' } });
    store.create('clusterroles', { metadata: { name: 'reader' }, rules: [{ verbs: ['list'], apiGroups: [''], resources: ['namespaces'] }] });
    store.create('clusterrolebindings', { metadata: { name: 'reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'ctl', namespace: 'sys' }] });
    const res = await fetch(`${api.url}/api/v1/namespaces/sys/serviceaccounts/ctl/token`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} }) });
    token = ((await res.json()) as { status: { token: string } }).status.token;
  });
  after(() => api.close());

  const get = (path: string, bearer?: string) => fetch(`${api.url}${path}`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });

  it('lets a service account do what its roles allow, and logs it', async () => {
    assert.equal((await get('/api/v1/namespaces', token)).status, 200);
    assert.deepEqual(audit.at(-1)?.request, { verb: 'list', apiGroup: '', resource: 'namespaces' });
    assert.equal(audit.at(-1)?.allowed, true);
  });

  it('answers 403 with a Status body for anything else', async () => {
    const res = await get('/api/v1/namespaces/sys/pods', token);
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods is forbidden: User "system:serviceaccount:sys:ctl" cannot list resource "pods" in API group "" in the namespace "sys"',
      reason: 'Forbidden',
      details: { group: '', kind: 'pods' },
      code: 403,
    });
    assert.equal(audit.at(-1)?.allowed, false);
  });

  it('refuses unknown tokens with 401 and lets the admin token do anything', async () => {
    assert.equal((await get('/api/v1/pods', 'nope')).status, 401);
    assert.equal((await get('/api/v1/pods')).status, 401);
    assert.equal((await get('/api/v1/pods', admin)).status, 200);
  });

  it('refuses a token minted for another audience (the controller\'s), as kube-apiserver does', async () => {
    const res = await fetch(`${api.url}/api/v1/namespaces/sys/serviceaccounts/ctl/token`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['ambit-controller'] } }) });
    const other = ((await res.json()) as { status: { token: string } }).status.token;
    assert.equal((await get('/api/v1/namespaces', other)).status, 401);
  });
});
