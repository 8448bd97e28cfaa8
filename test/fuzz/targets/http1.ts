import { args, exchange, Junk, pool, tally } from './common.js';

/**
 * Malformed HTTP/1.1 at an admin port (15020 agents and waypoints, 15014 the
 * controller): hostile methods, paths, versions and headers, request
 * smuggling shapes, and plain garbage.
 *   node http1.js HOST:PORT COUNT [SEED]
 */
const { host, port, count, seed } = args('http1.js HOST:PORT COUNT [SEED]');
const junk = new Junk(seed);
const t = tally(`http1 ${host}:${port}`);
const started = Date.now();
const PATHS = ['/', '/metrics', '/ready', '/healthz', '/config_dump', '/debug/agents', '/debug/model', '/%00', '/../../etc/passwd', '*'];

function request(): Buffer {
  if (junk.rand() < 0.15) return junk.bytes(3000);
  const method = junk.pick(['GET', 'HEAD', 'POST', 'DELETE', 'CONNECT', 'TRACE', junk.text(12)]);
  const path = junk.rand() < 0.5 ? junk.pick(PATHS) + (junk.rand() < 0.3 ? `?${junk.text(50)}` : '') : junk.text(200);
  const version = junk.pick(['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9', junk.text(8)]);
  const headers: string[] = [`Host: ${junk.pick(['x', junk.text(30)])}`];
  for (let i = junk.int(8); i > 0; i--) headers.push(`${junk.pick(['Content-Length', 'Transfer-Encoding', 'Connection', 'Expect', `X-${junk.int(99)}`, junk.text(20)])}: ${junk.pick(['chunked', '100-continue', '-1', '99999999999', 'close', junk.text(300)])}`);
  const body = junk.rand() < 0.3 ? junk.bytes(500) : Buffer.alloc(0);
  return Buffer.concat([Buffer.from(`${method} ${path} ${version}\r\n${headers.join('\r\n')}\r\n\r\n`), body]);
}

await pool(32, 10 * 60_000, () => t.inputs >= count, async () => {
  t.inputs++;
  t.connections++;
  const payload = request();
  t.count(await exchange(host, port, (s) => s.write(payload), 100));
});
console.log(JSON.stringify(t.done(started)));
