import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { isApiError, type StatusReason } from './status.js';
import { ObjectStore } from './store.js';
import {
  API_AUDIENCE,
  EXPIRED_RETENTION_MS,
  EXTRA_CREDENTIAL_ID,
  EXTRA_NODE_NAME,
  EXTRA_NODE_UID,
  EXTRA_POD_NAME,
  EXTRA_POD_UID,
  TokenRegistry,
  type TokenReviewStatus,
} from './tokens.js';

const START = Date.parse('2026-01-01T00:00:00Z');

describe('TokenRegistry', () => {
  let store: ObjectStore;
  let clock: number;
  let tokens: TokenRegistry;
  let saUid: string;
  let podUid: string;
  let nodeUid: string;

  beforeEach(() => {
    clock = START;
    store = new ObjectStore();
    tokens = new TokenRegistry({ store, now: () => new Date(clock) });
    store.create('namespaces', { metadata: { name: 'mesh' } });
    saUid = store.create('serviceaccounts', { metadata: { name: 'agent', namespace: 'mesh' } }).metadata.uid!;
    nodeUid = store.create('nodes', { metadata: { name: 'node-a' } }).metadata.uid!;
    podUid = store.create('pods', { metadata: { name: 'agent-1', namespace: 'mesh' }, spec: { serviceAccountName: 'agent', nodeName: 'node-a', containers: [] } }).metadata.uid!;
  });

  const review = (token: string, audiences?: string[]): TokenReviewStatus =>
    tokens.review({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } }).status;
  const error = (status: TokenReviewStatus): string => ('error' in status ? status.error : 'authenticated');
  const refuses = (fn: () => unknown, reason: StatusReason, message: RegExp) =>
    assert.throws(fn, (err: unknown) => isApiError(err, reason) && message.test(err.message));

  it('issues a token with the Kubernetes defaults and reviews it as the service account', () => {
    const tr = tokens.request('mesh', 'agent', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} });
    assert.deepEqual(tr.metadata, { name: 'agent', namespace: 'mesh', creationTimestamp: '2026-01-01T00:00:00Z' });
    assert.deepEqual(tr.spec, { audiences: [API_AUDIENCE], expirationSeconds: 3600 });
    assert.equal(tr.status.expirationTimestamp, '2026-01-01T01:00:00Z');
    assert.match(tr.status.token, /^[A-Za-z0-9_-]{43}$/);

    const full = tokens.review({ spec: { token: tr.status.token } });
    assert.equal(full.kind, 'TokenReview');
    assert.equal(full.apiVersion, 'authentication.k8s.io/v1');
    assert.deepEqual(full.spec, { token: tr.status.token });
    const status = full.status;
    assert.ok('authenticated' in status, error(status));
    assert.deepEqual(status.audiences, [API_AUDIENCE]);
    assert.equal(status.user.username, 'system:serviceaccount:mesh:agent');
    assert.equal(status.user.uid, saUid);
    assert.deepEqual(status.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:mesh', 'system:authenticated']);
    assert.deepEqual(Object.keys(status.user.extra), [EXTRA_CREDENTIAL_ID], 'an unbound token has no pod or node claims');
    assert.match(status.user.extra[EXTRA_CREDENTIAL_ID]![0]!, /^JTI=[0-9a-f-]{36}$/);
    assert.notEqual(tokens.request('mesh', 'agent', {}).status.token, tr.status.token, 'every request mints a new token');
  });

  it('binds a token to a pod and reports the pod and its node', () => {
    const tr = tokens.request('mesh', 'agent', { spec: { audiences: ['ambit'], expirationSeconds: 600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'agent-1', uid: podUid } } });
    assert.deepEqual(tr.spec, { audiences: ['ambit'], expirationSeconds: 600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'agent-1', uid: podUid } });
    const status = review(tr.status.token, ['other', 'ambit']);
    assert.ok('authenticated' in status, error(status));
    assert.deepEqual(status.audiences, ['ambit'], 'the audiences both sides name');
    const { [EXTRA_CREDENTIAL_ID]: _id, ...claims } = status.user.extra;
    assert.deepEqual(claims, { [EXTRA_POD_NAME]: ['agent-1'], [EXTRA_POD_UID]: [podUid], [EXTRA_NODE_NAME]: ['node-a'], [EXTRA_NODE_UID]: [nodeUid] });

    store.create('pods', { metadata: { name: 'unscheduled', namespace: 'mesh' }, spec: { serviceAccountName: 'agent', containers: [] } });
    store.create('pods', { metadata: { name: 'on-ghost', namespace: 'mesh' }, spec: { serviceAccountName: 'agent', nodeName: 'ghost', containers: [] } });
    const extra = (pod: string) => {
      const s = review(tokens.request('mesh', 'agent', { spec: { boundObjectRef: { kind: 'Pod', name: pod } } }).status.token);
      assert.ok('authenticated' in s, error(s));
      return Object.keys(s.user.extra).sort();
    };
    assert.deepEqual(extra('unscheduled'), [EXTRA_CREDENTIAL_ID, EXTRA_POD_NAME, EXTRA_POD_UID].sort(), 'no node claims for an unscheduled pod');
    assert.deepEqual(extra('on-ghost'), [EXTRA_CREDENTIAL_ID, EXTRA_NODE_NAME, EXTRA_POD_NAME, EXTRA_POD_UID].sort(), 'no node uid without a Node object');
  });

  it('refuses token requests as kube-apiserver does', () => {
    const bind = (ref: unknown) => () => tokens.request('mesh', 'agent', { spec: { boundObjectRef: ref } });
    refuses(() => tokens.request('mesh', 'nobody', {}), 'NotFound', /^serviceaccounts "nobody" not found$/);
    refuses(() => tokens.request('nowhere', 'agent', {}), 'NotFound', /serviceaccounts "agent" not found/);
    refuses(() => tokens.request('mesh', 'agent', { spec: { expirationSeconds: 599 } }), 'Invalid', /spec\.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes/);
    refuses(() => tokens.request('mesh', 'agent', { spec: { expirationSeconds: 2 ** 32 + 1 } }), 'Invalid', /larger than 2\^32 seconds/);
    refuses(() => tokens.request('mesh', 'agent', { spec: { expirationSeconds: '1h' } }), 'BadRequest', /integer number of seconds/);
    refuses(() => tokens.request('mesh', 'agent', { spec: { audiences: 'ambit' } }), 'BadRequest', /spec\.audiences must be a list of strings/);
    refuses(() => tokens.request('mesh', 'agent', { metadata: { name: 'other' } }), 'Invalid', /metadata\.name: Invalid value: "other": must match the service account name/);
    refuses(() => tokens.request('mesh', 'agent', { kind: 'TokenReview' }), 'BadRequest', /does not match the expected kind \(TokenRequest\)/);
    refuses(bind({ kind: 'Pod', name: 'gone' }), 'NotFound', /^pods "gone" not found$/);
    refuses(bind({ kind: 'Pod', name: 'agent-1', uid: 'old-uid' }), 'Conflict', /the UID in the bound object reference \(old-uid\) does not match the UID in record/);
    refuses(bind({ kind: 'Secret', name: 's' }), 'BadRequest', /cannot bind token to object of type v1, Kind=Secret/);
    refuses(bind({ kind: 'Pod' }), 'BadRequest', /boundObjectRef\.name is required/);
    store.create('pods', { metadata: { name: 'web', namespace: 'mesh' }, spec: { containers: [] } });
    refuses(bind({ kind: 'Pod', name: 'web' }), 'BadRequest', /cannot bind token for serviceaccount "agent" to pod running with serviceaccount "default"/);
  });

  it('refuses unknown tokens and tokens for other audiences, with upstream error strings', () => {
    const token = tokens.request('mesh', 'agent', { spec: { audiences: ['ambit', 'istio-ca'] } }).status.token;
    const unknown = review('not-a-token');
    assert.deepEqual(unknown, { user: {}, error: 'invalid bearer token' }, 'no authenticated or audiences fields, as kube-apiserver omits them');
    assert.equal(error(review(token, ['vault'])), '[invalid bearer token, token audiences ["ambit" "istio-ca"] is invalid for the target audiences ["vault"]]');
    assert.match(error(review(token)), /target audiences \["https:\/\/kubernetes\.default\.svc\.cluster\.local"\]/, 'no audiences: the API server audience');
    refuses(() => tokens.review({ spec: { token: '' } }), 'BadRequest', /token is required for TokenReview/);
    refuses(() => tokens.review({ spec: {} }), 'BadRequest', /token is required for TokenReview/);
  });

  it('expires tokens at the requested time by its clock, then forgets them', () => {
    const token = tokens.request('mesh', 'agent', { spec: { expirationSeconds: 600 } }).status.token;
    clock += 600_000 - 1;
    assert.equal(error(review(token)), 'authenticated');
    clock += 1;
    assert.equal(error(review(token)), '[invalid bearer token, service account token has expired]');
    clock += EXPIRED_RETENTION_MS;
    assert.equal(error(review(token)), 'invalid bearer token', 'forgotten once the retention has passed');
  });

  it('invalidates a token when its pod or service account is deleted, even if recreated', () => {
    const bound = () => tokens.request('mesh', 'agent', { spec: { boundObjectRef: { kind: 'Pod', name: 'agent-1' } } }).status.token;
    const first = bound();
    store.delete('pods', 'mesh', 'agent-1');
    assert.equal(error(review(first)), '[invalid bearer token, service account token has been invalidated]');
    const newUid = store.create('pods', { metadata: { name: 'agent-1', namespace: 'mesh' }, spec: { serviceAccountName: 'agent', nodeName: 'node-a', containers: [] } }).metadata.uid;
    assert.equal(error(review(first)), `[invalid bearer token, pod UID (${newUid}) does not match service account pod ref claim (${podUid})]`);
    const second = bound();
    assert.equal(error(review(second)), 'authenticated');
    store.delete('serviceaccounts', 'mesh', 'agent');
    assert.equal(error(review(second)), '[invalid bearer token, serviceaccounts "agent" not found]');
    const saUid2 = store.create('serviceaccounts', { metadata: { name: 'agent', namespace: 'mesh' } }).metadata.uid;
    assert.equal(error(review(second)), `[invalid bearer token, service account UID (${saUid2}) does not match claim (${saUid})]`);
  });
});
