import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1TokenReviewStatus } from '@kubernetes/client-node';
import { AmbitError } from '../../lib/errors.js';
import { EitherAuthenticator } from './either.js';
import { StaticTokenAuthenticator } from './static.js';
import { EXTRA_NODE_NAME, EXTRA_POD_NAME, EXTRA_POD_UID, TokenReviewAuthenticator, type TokenReviewer } from './token-review.js';

const AGENT = 'system:serviceaccount:ambit-system:ambit-node-agent';

function reviewer(answers: Record<string, V1TokenReviewStatus>): TokenReviewer & { calls: number; audiences: readonly string[][] } {
  const r = {
    calls: 0,
    audiences: [] as string[][],
    review: async (token: string, audiences: readonly string[]) => {
      r.calls++;
      r.audiences.push([...audiences]);
      return answers[token] ?? { authenticated: false, error: 'invalid bearer token' };
    },
  };
  return r;
}

const pods: Record<string, { uid: string; node: string }> = { 'ambit-system/agent-x1': { uid: 'uid-1', node: 'node-a' } };
const pod = (ns: string, name: string) => pods[`${ns}/${name}`];

describe('StaticTokenAuthenticator', () => {
  it('maps tokens to nodes and refuses unknown ones', async () => {
    const a = new StaticTokenAuthenticator({ 'node-a': 'ta', 'node-b': 'tb' });
    assert.deepEqual(await a.authenticate('tb'), { ok: true, value: { node: 'node-b', subject: 'node:node-b' } });
    const bad = await a.authenticate('tc');
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.error.code, 'AMBIT_ERR_AGENT_AUTH');
  });
});

describe('TokenReviewAuthenticator', () => {
  const opts = { pod, serviceAccounts: ['ambit-system/ambit-node-agent'] };

  it('takes the node from the node-name claim, checked against the bound pod', async () => {
    const r = reviewer({
      good: { authenticated: true, user: { username: AGENT, extra: { [EXTRA_NODE_NAME]: ['node-a'], [EXTRA_POD_NAME]: ['agent-x1'], [EXTRA_POD_UID]: ['uid-1'] } } },
      liar: { authenticated: true, user: { username: AGENT, extra: { [EXTRA_NODE_NAME]: ['node-b'], [EXTRA_POD_NAME]: ['agent-x1'] } } },
    });
    const a = new TokenReviewAuthenticator({ ...opts, reviewer: r });
    assert.deepEqual(await a.authenticate('good'), { ok: true, value: { node: 'node-a', subject: AGENT } });
    const liar = await a.authenticate('liar');
    assert.match(!liar.ok ? liar.error.message : '', /names node node-b but its pod ambit-system\/agent-x1 runs on node-a/);
  });

  it('falls back to the bound pod node and refuses stale or unbound tokens', async () => {
    const r = reviewer({
      pod: { authenticated: true, user: { username: AGENT, extra: { [EXTRA_POD_NAME]: ['agent-x1'], [EXTRA_POD_UID]: ['uid-1'] } } },
      stale: { authenticated: true, user: { username: AGENT, extra: { [EXTRA_POD_NAME]: ['agent-x1'], [EXTRA_POD_UID]: ['uid-0'] } } },
      gone: { authenticated: true, user: { username: AGENT, extra: { [EXTRA_POD_NAME]: ['agent-x9'] } } },
      legacy: { authenticated: true, user: { username: AGENT } },
      other: { authenticated: true, user: { username: 'system:serviceaccount:shop:web', extra: { [EXTRA_NODE_NAME]: ['node-a'] } } },
      human: { authenticated: true, user: { username: 'alice' } },
    });
    const a = new TokenReviewAuthenticator({ ...opts, reviewer: r });
    assert.deepEqual(await a.authenticate('pod'), { ok: true, value: { node: 'node-a', subject: AGENT } });
    const expect = async (token: string, re: RegExp) => {
      const res = await a.authenticate(token);
      assert.equal(res.ok, false, token);
      assert.match(!res.ok ? res.error.message : '', re);
    };
    await expect('stale', /earlier pod/);
    await expect('gone', /does not know/);
    await expect('legacy', /not bound to a pod or node/);
    await expect('other', /shop\/web is neither a node agent's nor a Waypoint's/);
    await expect('human', /not to a service account/);
    await expect('nope', /rejected the token: invalid bearer token/);
  });

  it('caches positive reviews for a while and checks audiences', async () => {
    let now = 1_000_000;
    const r = reviewer({ good: { authenticated: true, audiences: ['ambit'], user: { username: AGENT, extra: { [EXTRA_NODE_NAME]: ['node-a'] } } } });
    const a = new TokenReviewAuthenticator({ ...opts, reviewer: r, audiences: ['ambit'], cacheTtlMs: 1000, now: () => now });
    assert.ok((await a.authenticate('good')).ok);
    assert.ok((await a.authenticate('good')).ok);
    assert.equal(r.calls, 1);
    now += 1001;
    assert.ok((await a.authenticate('good')).ok);
    assert.equal(r.calls, 2);
    assert.deepEqual(r.audiences[0], ['ambit']);
    const strict = new TokenReviewAuthenticator({ ...opts, reviewer: r, audiences: ['other'] });
    assert.match(await strict.authenticate('good').then((x) => (!x.ok ? x.error.message : '')), /not for audience other/);
  });

  it('reports a failing TokenReview call as a refusal, not a throw', async () => {
    const a = new TokenReviewAuthenticator({ ...opts, reviewer: { review: async () => Promise.reject(new Error('forbidden')) } });
    const res = await a.authenticate('x');
    assert.match(!res.ok ? res.error.message : '', /TokenReview failed \(forbidden\)/);
  });

  it("authenticates a Waypoint's proxy by a token bound to one of its pods, and no other pod running as its account", async () => {
    const WP = 'system:serviceaccount:shop:wp';
    const shopPods: Record<string, { uid: string; node: string; waypoint?: string }> = {
      'shop/wp-1': { uid: 'u-wp', node: 'node-b', waypoint: 'wp' },
      'shop/impostor': { uid: 'u-imp', node: 'node-b' },
      'shop/other-wp': { uid: 'u-ow', node: 'node-b', waypoint: 'wp2' },
    };
    const r = reviewer({
      proxy: { authenticated: true, user: { username: WP, extra: { [EXTRA_POD_NAME]: ['wp-1'], [EXTRA_POD_UID]: ['u-wp'] } } },
      impostor: { authenticated: true, user: { username: WP, extra: { [EXTRA_POD_NAME]: ['impostor'], [EXTRA_POD_UID]: ['u-imp'] } } },
      mislabelled: { authenticated: true, user: { username: WP, extra: { [EXTRA_POD_NAME]: ['other-wp'] } } },
      unbound: { authenticated: true, user: { username: WP, extra: { [EXTRA_NODE_NAME]: ['node-b'] } } },
      noWaypoint: { authenticated: true, user: { username: 'system:serviceaccount:shop:gone', extra: { [EXTRA_POD_NAME]: ['wp-1'] } } },
    });
    const a = new TokenReviewAuthenticator({
      reviewer: r,
      pod: (ns, name) => shopPods[`${ns}/${name}`],
      serviceAccounts: [],
      waypoints: (ns, name) => ns === 'shop' && name === 'wp',
    });
    assert.deepEqual(await a.authenticate('proxy'), { ok: true, value: { node: 'node-b', subject: WP, waypoint: { namespace: 'shop', name: 'wp', pod: 'wp-1' } } });
    const refused = async (token: string) => a.authenticate(token).then((x) => (!x.ok ? x.error.message : 'accepted'));
    assert.match(await refused('impostor'), /bound to pod shop\/impostor, which is not labelled ambit\.dev\/waypoint=wp/);
    assert.match(await refused('mislabelled'), /not labelled ambit\.dev\/waypoint=wp/);
    assert.match(await refused('unbound'), /not bound to a pod/);
    assert.match(await refused('noWaypoint'), /shop\/gone is neither a node agent's nor a Waypoint's/);
  });
});

describe('EitherAuthenticator', () => {
  it('takes the first that accepts and, when none does, says what each found', async () => {
    const nodes = new StaticTokenAuthenticator({ 'node-a': 'ta' });
    const never = { describe: 'never', authenticate: async () => ({ ok: false as const, error: new AmbitError('AMBIT_ERR_AGENT_AUTH', 'second says no') }) };
    const a = new EitherAuthenticator([nodes, never]);
    assert.deepEqual(await a.authenticate('ta'), { ok: true, value: { node: 'node-a', subject: 'node:node-a' } });
    const res = await a.authenticate('tz');
    assert.equal(!res.ok && res.error.code, 'AMBIT_ERR_AGENT_AUTH');
    assert.match(!res.ok ? res.error.message : '', /unknown agent token.*; second says no$/);
  });
});
