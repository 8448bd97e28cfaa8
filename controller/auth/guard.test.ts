import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AmbitError, fail, ok, type Result } from '../../lib/errors.js';
import type { AgentIdentity, Authenticator } from './authenticator.js';
import { GuardedAuthenticator } from './guard.js';

/** An authenticator whose answers the test releases; counts what reached it. */
function slowAuthenticator() {
  const waiting: { token: string; answer: (r: Result<AgentIdentity>) => void }[] = [];
  const inner: Authenticator & { calls: number } = {
    describe: 'test',
    calls: 0,
    authenticate(token) {
      inner.calls++;
      return new Promise((answer) => waiting.push({ token, answer }));
    },
  };
  const release = (good: boolean) => {
    for (const w of waiting.splice(0)) w.answer(good ? ok({ node: 'node1', subject: 'node:node1' }) : fail(new AmbitError('AMBIT_ERR_AGENT_AUTH', 'unknown token')));
  };
  return { inner, release };
}

describe('the authentication guard', () => {
  it('shares one review among callers with the same token', async () => {
    const { inner, release } = slowAuthenticator();
    const guard = new GuardedAuthenticator(inner);
    const all = Promise.all([guard.authenticate('t'), guard.authenticate('t'), guard.authenticate('t')]);
    release(true);
    assert.deepEqual((await all).map((r) => r.ok), [true, true, true]);
    assert.equal(inner.calls, 1);
  });

  it('refuses beyond its concurrency ceiling without asking', async () => {
    const { inner, release } = slowAuthenticator();
    const guard = new GuardedAuthenticator(inner, { maxInFlight: 2 });
    const first = [guard.authenticate('a'), guard.authenticate('b')];
    const third = await guard.authenticate('c');
    assert.equal(third.ok, false);
    assert.match((third as { error: AmbitError }).error.message, /already authenticating 2 agents; retry/);
    assert.equal(inner.calls, 2);
    release(true);
    await Promise.all(first);
    assert.equal((await Promise.all([guard.authenticate('c'), (release(true), Promise.resolve())]))[0].ok, true, 'room again once they finish');
  });

  it('remembers a refusal briefly, then asks again', async () => {
    let now = 1_000;
    const { inner, release } = slowAuthenticator();
    const guard = new GuardedAuthenticator(inner, { negativeTtlMs: 3000, now: () => now });
    const first = guard.authenticate('bad');
    release(false);
    assert.equal((await first).ok, false);
    for (let i = 0; i < 100; i++) assert.equal((await guard.authenticate('bad')).ok, false);
    assert.equal(inner.calls, 1, 'a hundred retries cost one review');
    now += 3001;
    const again = guard.authenticate('bad');
    release(false);
    await again;
    assert.equal(inner.calls, 2);
  });

  it('gives up on an authentication that takes too long, and refuses oversized tokens outright', async () => {
    const { inner } = slowAuthenticator();
    const guard = new GuardedAuthenticator(inner, { timeoutMs: 20 });
    const r = await guard.authenticate('hangs');
    assert.match((r as { error: AmbitError }).error.message, /took longer than 20 ms/);
    const huge = await guard.authenticate('x'.repeat(20_000));
    assert.match((huge as { error: AmbitError }).error.message, /longer than 16384 bytes/);
    assert.equal(inner.calls, 1);
  });
});
