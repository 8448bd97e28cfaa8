import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from '../../lib/token-bucket.js';
import { rateLimiter } from './services.js';

test("a Service's rate limit: a bucket only for a positive maxTokens", () => {
  assert.equal(rateLimiter(null), undefined);
  assert.equal(rateLimiter(undefined), undefined);
  assert.equal(rateLimiter({ maxTokens: 0, tokensPerFill: 1, fillIntervalMs: 100 }), undefined);
  const b = rateLimiter({ maxTokens: 2, tokensPerFill: 1, fillIntervalMs: 100 });
  assert.ok(b instanceof TokenBucket);
  assert.deepEqual([b.take(), b.take(), b.take()], [true, true, false]);
});
