import { args, exchange, Junk, pool, tally } from './common.js';

/**
 * Garbage over plain TCP to a meshed pod from outside the mesh: the node
 * agent's TPROXY capture takes each connection to 15006, admits it and
 * splices it to the pod. Random payloads, half-closes and resets.
 *   node plaintext.js POD_IP:PORT COUNT [SEED]
 */
const { host, port, count, seed } = args('plaintext.js POD_IP:PORT COUNT [SEED]');
const junk = new Junk(seed);
const t = tally(`plaintext ${host}:${port}`);
const started = Date.now();
await pool(48, 10 * 60_000, () => t.inputs >= count, async () => {
  t.inputs++;
  t.connections++;
  const how = junk.pick(['write', 'write-end', 'reset', 'nothing']);
  t.count(
    `${how}: ${await exchange(
      host,
      port,
      (s) => {
        if (how === 'nothing') return;
        s.write(junk.bytes(4096));
        if (how === 'write-end') s.end();
        if (how === 'reset') s.resetAndDestroy();
      },
      50,
    )}`,
  );
});
console.log(JSON.stringify(t.done(started)));
