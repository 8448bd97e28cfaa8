import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { join } from 'node:path';
import tls from 'node:tls';
import { args, Junk, pool, tally } from './common.js';

/**
 * Malformed HTTP/2 inside a TLS session that the server accepts: for 15008 a
 * genuine mesh client certificate (from CERT_DIR), for 15010 none.
 *   frames  -- the connection preface, then random and mutated frames
 *   connect -- well-formed frames carrying CONNECT requests with hostile
 *              :authority, methods and headers, and data after them
 *   grpc    -- gRPC calls to the controller's services with random tokens and
 *              random length-prefixed messages
 *   node h2.js HOST:PORT COUNT SEED MODE [CERT_DIR] [SERVERNAME]
 */
const { host, port, count, seed, extra } = args('h2.js HOST:PORT COUNT SEED frames|connect|grpc [CERT_DIR] [SERVERNAME]');
const [mode = 'frames', certDir, servername] = extra;
const junk = new Junk(seed);
const cert = certDir ? { key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) } : {};
const tlsOptions = { host, port, ...cert, rejectUnauthorized: false, ALPNProtocols: ['h2'], ...(servername ? { servername } : {}) };
const t = tally(`h2 ${mode} ${host}:${port}`);
const started = Date.now();

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** A valid HPACK block: CONNECT to 10.244.2.2:9000 (literals without indexing), to mutate. */
const HEADER_BLOCK = Buffer.concat([Buffer.from([0x02, 0x07]), Buffer.from('CONNECT'), Buffer.from([0x01, 0x0f]), Buffer.from('10.244.2.2:9000')]);

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream >>> 0, 5);
  return Buffer.concat([h, payload]);
}

function randomFrame(): Buffer {
  const type = junk.rand() < 0.8 ? junk.pick([0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9]) : junk.int(256);
  const stream = junk.pick([0, 1, 3, 5, 2, 0x7fffffff, junk.int(2 ** 31)]);
  const payload = type === 1 || type === 9 ? junk.mutate(HEADER_BLOCK) : junk.bytes(junk.rand() < 0.9 ? 64 : 20_000);
  const f = frame(type, junk.int(256), stream, payload);
  return junk.rand() < 0.1 ? f.subarray(0, junk.int(f.length)) : f; // sometimes a frame cut short
}

async function frames(): Promise<void> {
  t.connections++;
  const outcome = await new Promise<string>((resolve) => {
    const s = tls.connect(tlsOptions);
    const timer = setTimeout(() => done('quiet'), 1500);
    const done = (o: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve(o);
    };
    let secured = false;
    s.on('secureConnect', () => {
      secured = true;
      const n = 1 + junk.int(50);
      t.inputs += n;
      const parts = [junk.rand() < 0.9 ? PREFACE : junk.mutate(PREFACE), frame(4, 0, 0, Buffer.alloc(0))];
      for (let i = 0; i < n; i++) parts.push(randomFrame());
      s.write(Buffer.concat(parts));
    });
    s.on('data', () => {});
    // A handshake the server refused still spent an input (the ClientHello): never spin on a closed door.
    s.on('error', (e: Error & { code?: string }) => done(secured ? (e.code ?? 'error') : `handshake refused (${e.code ?? 'error'})`));
    s.on('close', () => done(secured ? 'closed' : 'handshake refused (closed)'));
  });
  if (outcome.startsWith('handshake refused')) t.inputs++;
  t.count(outcome);
}

const AUTHORITIES = () => [junk.text(40), `10.244.2.2:${junk.pick([0, 9000, 65535, 65536, 99999, -1])}`, '[::1]:80', 'localhost:9000', `${junk.text(8)}:${junk.int(70000)}`, '', '10.244.2.2', ':9000', '1.2.3.4:5:6'];

async function session(requests: (h2: http2.ClientHttp2Session) => Promise<void>): Promise<void> {
  t.connections++;
  const h2 = http2.connect(`https://${host}:${port}`, { ...tlsOptions, createConnection: () => tls.connect(tlsOptions) });
  h2.on('error', (e: Error & { code?: string }) => t.count(`session ${e.code ?? 'error'}`));
  try {
    await new Promise<void>((resolve, reject) => {
      h2.once('connect', () => resolve());
      h2.once('error', reject);
      h2.once('close', () => reject(new Error('closed')));
      setTimeout(() => reject(new Error('timeout')), 3000).unref();
    });
    await requests(h2);
  } catch {
    t.inputs++; // the handshake was the input
    t.count('session refused');
  } finally {
    h2.destroy();
  }
}

function request(h2: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body: Buffer | undefined): Promise<void> {
  t.inputs++;
  return new Promise((resolve) => {
    let stream: http2.ClientHttp2Stream;
    try {
      stream = h2.request(headers, { endStream: false });
    } catch (e) {
      t.count(`not sent (${(e as { code?: string }).code ?? 'client refused'})`);
      resolve();
      return;
    }
    const timer = setTimeout(() => done('quiet'), 1000);
    const done = (o: string) => {
      clearTimeout(timer);
      t.count(o);
      stream.close();
      resolve();
    };
    stream.on('response', (h) => {
      if (body) stream.write(body);
      if (h[':status'] !== 200) done(`status ${h[':status']}`);
      else setTimeout(() => done('status 200, data sent'), 50);
    });
    stream.on('error', (e: Error & { code?: string }) => done(`stream ${e.code ?? 'error'}`));
    stream.on('close', () => done(`stream closed (${stream.rstCode})`));
  });
}

async function connects(): Promise<void> {
  await session(async (h2) => {
    const n = 1 + junk.int(100);
    const all: Promise<void>[] = [];
    for (let i = 0; i < n && !h2.destroyed; i++) {
      const headers: http2.OutgoingHttpHeaders = { ':method': junk.rand() < 0.85 ? 'CONNECT' : junk.pick(['GET', 'POST', 'PRI', junk.text(10).replace(/[^A-Z]/g, 'X') || 'X']), ':authority': junk.pick(AUTHORITIES()) };
      if (junk.rand() < 0.5) headers['forwarded'] = junk.pick([`for=${junk.text(20)}`, 'for=10.244.1.2', 'for="[::1]"', junk.text(200)]);
      if (junk.rand() < 0.1) headers[':path'] = '/';
      if (junk.rand() < 0.1) headers[':protocol'] = 'websocket';
      for (let k = junk.int(4); k > 0; k--) headers[`x-${junk.int(1e6)}`] = junk.text(100).replace(/[\r\n\0]/g, '');
      all.push(request(h2, headers, junk.rand() < 0.5 ? junk.bytes(4000) : undefined));
    }
    await Promise.all(all);
  });
}

function grpcMessage(): Buffer {
  const body = junk.bytes(2000);
  const h = Buffer.alloc(5);
  h[0] = junk.rand() < 0.9 ? 0 : junk.int(256);
  h.writeUInt32BE(junk.rand() < 0.9 ? body.length : junk.int(2 ** 32), 1);
  return Buffer.concat([h, body]);
}

async function grpc(): Promise<void> {
  await session(async (h2) => {
    const n = 1 + junk.int(20);
    const all: Promise<void>[] = [];
    for (let i = 0; i < n && !h2.destroyed; i++) {
      const headers: http2.OutgoingHttpHeaders = {
        ':method': junk.rand() < 0.9 ? 'POST' : 'GET',
        ':path': junk.pick(['/ambit.v1.MeshConfig/Stream', '/ambit.v1.MeshCA/Sign', '/grpc.health.v1.Health/Check', `/${junk.text(30)}`]),
        'content-type': junk.pick(['application/grpc', 'application/grpc+proto', 'text/plain']),
        te: 'trailers',
      };
      if (junk.rand() < 0.8) headers['authorization'] = `Bearer ${junk.rand() < 0.05 ? 'x'.repeat(100_000) : junk.text(60).replace(/[\r\n\0]/g, '')}`;
      all.push(request(h2, headers, grpcMessage()));
    }
    await Promise.all(all);
  });
}

const one = { frames, connect: connects, grpc }[mode];
if (!one) throw new Error(`unknown mode ${mode}`);
await pool(16, 10 * 60_000, () => t.inputs >= count, one);
console.log(JSON.stringify(t.done(started)));
