import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

// A thread with the data path's young generation allocates a burst, goes
// quiet, and must shrink its heap back by itself, without being asked.
test('a thread that was busy and went quiet shrinks its young generation back', { timeout: 90_000 }, async () => {
  const reclaim = fileURLToPath(new URL('./reclaim.js', import.meta.url));
  const worker = new Worker(
    `
    const { parentPort } = require('node:worker_threads');
    const { getHeapSpaceStatistics } = require('node:v8');
    const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    import(${JSON.stringify(reclaim)}).then(({ reclaimWhenQuiet }) => {
      reclaimWhenQuiet((bytes) => parentPort.postMessage({ reclaimed: bytes }));
      // A burst: objects that live long enough to make V8 grow the young generation.
      let keep = [];
      const end = Date.now() + 2500;
      while (Date.now() < end) { for (let i = 0; i < 10000; i++) keep.push({ i, s: 'x' + i }); if (keep.length > 300000) keep = []; }
      keep = [];
      parentPort.postMessage({ grown: young() });
      setInterval(() => {}, 1000); // stay alive, quiet
    });
    `,
    { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 192 } },
  );
  try {
    const seen: { grown?: number; reclaimed?: number } = {};
    await new Promise<void>((done, fail) => {
      worker.on('error', fail);
      worker.on('message', (m: typeof seen) => {
        Object.assign(seen, m);
        if (m.reclaimed !== undefined) done();
      });
    });
    assert.ok(seen.grown! > 32 << 20, `the burst grew the young generation (${seen.grown} bytes)`);
    assert.ok(seen.reclaimed! <= 4 << 20, `and it was shrunk back (${seen.reclaimed} bytes)`);
  } finally {
    await worker.terminate();
  }
});
