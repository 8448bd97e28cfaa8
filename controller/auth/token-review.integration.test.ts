import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiException, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { ObjectStore, startApiServer, type ApiServer } from '../../lab/apiserver/index.js';
import { kubeConfig } from '../../lib/k8s/client.js';
import { TokenReviewAuthenticator, kubeTokenReviewer } from './token-review.js';

/**
 * Agent authentication end to end over HTTP: the lab API server issues
 * service account tokens (TokenRequest through @kubernetes/client-node, as the
 * kubelet does for a projected token volume) and reviews them; the reviewer
 * and the authenticator are the controller's production code. One clock
 * drives the API server and the authenticator, so expiry needs no sleeping.
 */

const ADMIN_TOKEN = 'controller-token';
const AGENT_SA = 'ambit-system/ambit-node-agent';
const AGENT_USER = 'system:serviceaccount:ambit-system:ambit-node-agent';
const AUDIENCE = 'ambit';
const CACHE_TTL_MS = 60_000;

describe('TokenReviewAuthenticator against the lab API server', () => {
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const store = new ObjectStore({ now: () => new Date(clock) });
  let api: ApiServer;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let authenticator: TokenReviewAuthenticator;

  const pod = (namespace: string, name: string, serviceAccountName: string, nodeName: string) =>
    store.create('pods', { metadata: { name, namespace }, spec: { serviceAccountName, nodeName, containers: [{ name: 'c', image: 'x' }] } });

  /** A TokenRequest through client-node, bound to `boundPod` (with its current uid) when given. */
  const requestToken = async (sa: string, opts: { boundPod?: string; audiences?: string[]; expirationSeconds?: number } = {}) => {
    const [namespace, name] = sa.split('/') as [string, string];
    const boundObjectRef = opts.boundPod === undefined ? undefined : { kind: 'Pod', apiVersion: 'v1', name: opts.boundPod, uid: store.get('pods', namespace, opts.boundPod).metadata.uid };
    return core.createNamespacedServiceAccountToken({
      namespace,
      name,
      body: { spec: { audiences: opts.audiences ?? [AUDIENCE], ...(opts.expirationSeconds ? { expirationSeconds: opts.expirationSeconds } : {}), ...(boundObjectRef ? { boundObjectRef } : {}) } },
    });
  };
  const token = async (sa: string, opts: Parameters<typeof requestToken>[1] = {}) => (await requestToken(sa, opts)).status!.token;
  const refusal = async (t: string): Promise<string> => {
    const res = await authenticator.authenticate(t);
    assert.equal(res.ok, false, 'expected the token to be refused');
    assert.equal(!res.ok && res.error.code, 'AMBIT_ERR_AGENT_AUTH');
    return !res.ok ? res.error.message : '';
  };

  before(async () => {
    for (const ns of ['ambit-system', 'shop']) store.create('namespaces', { metadata: { name: ns } });
    store.create('serviceaccounts', { metadata: { name: 'ambit-node-agent', namespace: 'ambit-system' } });
    store.create('serviceaccounts', { metadata: { name: 'web', namespace: 'shop' } });
    for (const node of ['node-a', 'node-b']) store.create('nodes', { metadata: { name: node } });
    pod('ambit-system', 'agent-a', 'ambit-node-agent', 'node-a');
    pod('ambit-system', 'agent-b', 'ambit-node-agent', 'node-b');
    pod('shop', 'web-1', 'web', 'node-a');
    api = await startApiServer({ store, token: ADMIN_TOKEN, now: () => new Date(clock) });
    kc = kubeConfig({ server: api.url, token: ADMIN_TOKEN });
    core = kc.makeApiClient(CoreV1Api);
    authenticator = new TokenReviewAuthenticator({
      reviewer: kubeTokenReviewer(kc),
      // The controller reads pods from its model; the store is this test's model.
      pod: (namespace, name) => {
        const p = store.tryGet('pods', namespace, name);
        return p && { uid: p.metadata.uid ?? '', node: (p.spec as { nodeName?: string }).nodeName ?? '' };
      },
      serviceAccounts: [AGENT_SA],
      audiences: [AUDIENCE],
      cacheTtlMs: CACHE_TTL_MS,
      now: () => clock,
    });
  });
  after(() => api?.close());

  it('issues a token through client-node with the requested audience and lifetime', async () => {
    const tr = await requestToken(AGENT_SA, { boundPod: 'agent-a', expirationSeconds: 7200 });
    assert.deepEqual(tr.spec.audiences, [AUDIENCE]);
    assert.equal(tr.spec.expirationSeconds, 7200);
    assert.equal(tr.spec.boundObjectRef?.name, 'agent-a');
    assert.equal(tr.status?.expirationTimestamp.getTime(), clock + 7200_000);
    assert.ok(tr.status?.token);
  });

  it('accepts a pod-bound agent token and takes the node from it', async () => {
    assert.deepEqual(await authenticator.authenticate(await token(AGENT_SA, { boundPod: 'agent-a' })), { ok: true, value: { node: 'node-a', subject: AGENT_USER } });
    assert.deepEqual(await authenticator.authenticate(await token(AGENT_SA, { boundPod: 'agent-b' })), { ok: true, value: { node: 'node-b', subject: AGENT_USER } });
  });

  it('refuses a token for another audience', async () => {
    assert.equal(
      await refusal(await token(AGENT_SA, { boundPod: 'agent-a', audiences: ['vault'] })),
      'the API server rejected the token: [invalid bearer token, token audiences ["vault"] is invalid for the target audiences ["ambit"]]',
    );
    // No audiences asked for: the API server's own, which is not the mesh's.
    assert.match(await refusal(await token(AGENT_SA, { boundPod: 'agent-a', audiences: [] })), /token audiences \["https:\/\/kubernetes\.default\.svc\.cluster\.local"\] is invalid for the target audiences \["ambit"\]/);
  });

  it('refuses a token once it has expired', async () => {
    const t = await token(AGENT_SA, { boundPod: 'agent-a', expirationSeconds: 600 });
    assert.ok((await authenticator.authenticate(t)).ok);
    clock += 600_000;
    assert.equal(await refusal(t), 'the API server rejected the token: [invalid bearer token, service account token has expired]');
  });

  it('refuses a token the API server never issued', async () => {
    assert.equal(await refusal('made-up-token'), 'the API server rejected the token: invalid bearer token');
  });

  it('refuses a token whose pod was deleted, and one whose pod was recreated', async () => {
    const agentC = pod('ambit-system', 'agent-c', 'ambit-node-agent', 'node-b');
    const t = await token(AGENT_SA, { boundPod: 'agent-c' });
    assert.deepEqual(await authenticator.authenticate(t), { ok: true, value: { node: 'node-b', subject: AGENT_USER } });
    store.delete('pods', 'ambit-system', 'agent-c');
    // Still within the authenticator's cache of the positive review: the binding is re-checked, so no grace period.
    assert.equal(await refusal(t), 'the API server rejected the token: [invalid bearer token, service account token has been invalidated]');
    const again = pod('ambit-system', 'agent-c', 'ambit-node-agent', 'node-a');
    assert.equal(
      await refusal(t),
      `the API server rejected the token: [invalid bearer token, pod UID (${again.metadata.uid}) does not match service account pod ref claim (${agentC.metadata.uid})]`,
    );
  });

  it("refuses a valid token of a service account that is not the node agent's", async () => {
    assert.equal(await refusal(await token('shop/web', { boundPod: 'web-1' })), `service account shop/web is neither a node agent's nor a Waypoint's (allowed: ${AGENT_SA})`);
  });

  it('answers bad TokenRequests with Kubernetes Status errors', async () => {
    const status = async (p: Promise<unknown>): Promise<{ code: number; reason: string; message: string }> => {
      const err = await p.then(
        () => assert.fail('expected the TokenRequest to fail'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ApiException, String(err));
      const body = JSON.parse(String(err.body)) as { kind: string; code: number; reason: string; message: string };
      assert.equal(body.kind, 'Status');
      return { code: err.code, reason: body.reason, message: body.message };
    };
    assert.deepEqual(await status(token('ambit-system/nobody')), { code: 404, reason: 'NotFound', message: 'serviceaccounts "nobody" not found' });
    assert.deepEqual(await status(requestToken(AGENT_SA, { expirationSeconds: 60 })), {
      code: 422,
      reason: 'Invalid',
      message: 'TokenRequest.authentication.k8s.io "ambit-node-agent" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
    });
    const wrongPod = core.createNamespacedServiceAccountToken({ namespace: 'ambit-system', name: 'ambit-node-agent', body: { spec: { audiences: [AUDIENCE], boundObjectRef: { kind: 'Pod', name: 'ghost' } } } });
    assert.deepEqual(await status(wrongPod), { code: 404, reason: 'NotFound', message: 'pods "ghost" not found' });
  });
});
