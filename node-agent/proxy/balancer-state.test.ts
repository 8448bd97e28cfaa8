import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, it } from 'node:test';
import { newBalancerBuffer, sharedBalancerState } from './balancer-state.js';

describe('balancer state shared by workers', () => {
  it('two views of one buffer see one cursor and one set of open counts', () => {
    const buf = newBalancerBuffer();
    const a = sharedBalancerState(buf);
    const b = sharedBalancerState(buf);
    assert.deepEqual([a.nextCursor('shop/web:80', 3), b.nextCursor('shop/web:80', 3), a.nextCursor('shop/web:80', 3), b.nextCursor('shop/web:80', 3)], [0, 1, 2, 0]);
    const release = a.track('10.244.1.5');
    b.track('10.244.1.5');
    assert.equal(b.open('10.244.1.5'), 2);
    release();
    release(); // idempotent
    assert.equal(a.open('10.244.1.5'), 1);
    assert.equal(a.open('10.244.9.9'), 0);
  });

  it('counts exactly under contention from real threads', async () => {
    const buf = newBalancerBuffer();
    const entry = fileURLToPath(new URL('./balancer-state.js', import.meta.url));
    const script = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(${JSON.stringify(entry)}).then(({ sharedBalancerState }) => {
        const lb = sharedBalancerState(workerData);
        for (let i = 0; i < 20000; i++) { lb.track('10.0.0.' + (i % 7)); lb.nextCursor('k', 5); }
        parentPort.postMessage('done');
      });`;
    await Promise.all([0, 1, 2].map(() => new Promise((resolve, reject) => new Worker(script, { eval: true, workerData: buf }).once('message', resolve).once('error', reject))));
    const lb = sharedBalancerState(buf);
    const total = [0, 1, 2, 3, 4, 5, 6].reduce((n, i) => n + lb.open(`10.0.0.${i}`), 0);
    assert.equal(total, 60000);
    assert.equal(lb.nextCursor('k', 1_000_000), 60000, 'every cursor step counted once');
  });
});
