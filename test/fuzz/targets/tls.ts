import net from 'node:net';
import tls from 'node:tls';
import { args, exchange, Junk, pool, tally } from './common.js';

/**
 * Malformed TLS at a TLS port (15008 HBONE, 15010 control plane): random
 * bytes, real ClientHellos with bytes flipped, cut or extended, handshakes
 * abandoned halfway, and (where the server does not demand a client
 * certificate) garbage after a completed handshake.
 *   node tls.js HOST:PORT COUNT [SEED]
 */
const { host, port, count, seed } = args('tls.js HOST:PORT COUNT [SEED]');
const junk = new Junk(seed);

/** A genuine ClientHello, as Node's TLS sends it, to mutate. */
async function clientHello(): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => (resolve(d), s.destroy()))));
  const c = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, servername: 'web.shop.sa.cluster.local', ALPNProtocols: ['h2'] });
  c.on('error', () => {});
  const hello = await got;
  c.destroy();
  server.close();
  return hello;
}

const hello = await clientHello();
const t = tally(`tls ${host}:${port}`);
const started = Date.now();
const kinds = ['random', 'mutated-hello', 'mutated-hello', 'half-hello', 'after-handshake'] as const;

await pool(32, 10 * 60_000, () => t.inputs >= count, async () => {
  const kind = junk.pick(kinds);
  t.inputs++;
  t.connections++;
  if (kind === 'after-handshake') {
    const outcome = await new Promise<string>((resolve) => {
      const s = tls.connect({ host, port, rejectUnauthorized: false, ALPNProtocols: [junk.pick(['h2', 'http/1.1', 'x'])], minVersion: 'TLSv1.2' });
      const timer = setTimeout(() => done('timeout'), 2000);
      const done = (o: string) => {
        clearTimeout(timer);
        s.destroy();
        resolve(o);
      };
      s.on('secureConnect', () => {
        s.write(junk.bytes(2000));
        setTimeout(() => done('handshake, then quiet'), 200);
      });
      s.on('error', (e: Error & { code?: string }) => done(`handshake refused (${e.code ?? 'error'})`));
      s.on('close', () => done('handshake, then closed'));
    });
    t.count(outcome);
    return;
  }
  const payload = kind === 'random' ? junk.bytes(2000) : kind === 'half-hello' ? hello.subarray(0, junk.int(hello.length)) : junk.mutate(hello);
  t.count(`${kind}: ${await exchange(host, port, (s) => s.write(payload), 150)}`);
});
console.log(JSON.stringify(t.done(started)));
