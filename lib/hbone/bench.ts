/**
 * HBONE loopback measurements (not a test): one tunnel's throughput and stream setup latency
 * on a warm session, against plain TCP and plain mutual TLS baselines.
 *
 *   npx tsc -p tsconfig.json && node dist/lib/hbone/bench.js [MiB=256] [throughput]
 */
import { once } from 'node:events';
import net from 'node:net';
import { Readable, type Duplex } from 'node:stream';
import tls from 'node:tls';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { issue, testCa } from '../identity/fixtures.js';
import { meshClientTlsOptions, meshTlsOptions, type WorkloadTlsMaterial } from '../identity/index.js';
import { logger } from '../log.js';
import { echo, tcpServer } from './harness.js';
import { HbonePool, startHboneServer } from './index.js';

const MiB = 1024 * 1024;
const total = Number(process.argv[2] ?? 256) * MiB;
const chunk = Buffer.alloc(64 * 1024, 7);
const log = logger('hbone', 'bench');
log.level = 'warn';

/** `bytes` of data, as fast as the consumer takes it. */
const source = (bytes: number): Readable =>
  Readable.from(
    (function* () {
      for (let sent = 0; sent < bytes; sent += chunk.length) yield sent + chunk.length <= bytes ? chunk : chunk.subarray(0, bytes - sent);
    })(),
  );

/** Sink upstream: counts, and answers "ok" after the peer's FIN. Source upstream: sends `total` bytes. */
const sink = (s: net.Socket): void => {
  s.on('data', () => {});
  s.on('end', () => s.end('ok'));
};
const emitter = (s: net.Socket): void => {
  s.resume();
  source(total).pipe(s);
};

/** Time to push `total` bytes up `stream` and get the sink's answer. */
async function upload(stream: Duplex): Promise<number> {
  const t0 = process.hrtime.bigint();
  const done = once(stream, 'end');
  stream.resume();
  source(total).pipe(stream);
  await done;
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Time to read `total` bytes from `stream` until its end. */
async function download(stream: Duplex): Promise<number> {
  const t0 = process.hrtime.bigint();
  let got = 0;
  stream.on('data', (c: Buffer) => (got += c.length));
  await once(stream, 'end');
  if (got !== total) throw new Error(`got ${got} of ${total} bytes`);
  stream.end();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const rate = (s: number): string => `${((total / MiB) / s).toFixed(0)} MiB/s (${((total * 8) / s / 1e9).toFixed(2)} Gbit/s, ${s.toFixed(2)} s, best of 3)`;
const pct = (xs: number[], p: number): number => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** The far side (HBONE server, upstreams, TLS baseline server), in a worker thread: its own event loop and CPU. */
async function farSide(d: { server: WorkloadTlsMaterial }): Promise<void> {
  const ups = { sink: await tcpServer(sink), emitter: await tcpServer(emitter), echo: await tcpServer(echo) };
  const hbone = await startHboneServer({ host: '127.0.0.1', port: 0, log, tls: () => d.server, authorize: () => ({ allow: true }) });
  const tlsSrv = tls.createServer(meshTlsOptions(d.server), sink);
  tlsSrv.listen(0, '127.0.0.1');
  await once(tlsSrv, 'listening');
  parentPort!.postMessage({ hbone: hbone.address.port, tls: (tlsSrv.address() as net.AddressInfo).port, sink: ups.sink.port, emitter: ups.emitter.port, echo: ups.echo.port });
}

async function main(): Promise<void> {
  const ca = testCa();
  const serverCert = issue(ca, 'spiffe://cluster.local/ns/bench/sa/server');
  const clientCert = issue(ca, 'spiffe://cluster.local/ns/bench/sa/client');
  const worker = new Worker(new URL(import.meta.url), { workerData: { server: { keyPem: serverCert.keyPem, certChainPem: serverCert.certChainPem, rootPem: serverCert.rootPem } }, argv: process.argv.slice(2) });
  const [ports] = (await once(worker, 'message')) as [{ hbone: number; tls: number; sink: number; emitter: number; echo: number }];
  const pool = new HbonePool({ log });
  const via = `127.0.0.1:${ports.hbone}`;
  const open = async (port: number): Promise<Duplex> => {
    const r = await pool.connect({ sourceIdentity: 'bench', sourceTls: () => clientCert, destination: `127.0.0.1:${port}`, via });
    if (!r.ok) throw r.error;
    return r.value.stream;
  };
  console.log(`node ${process.version}, ${total / MiB} MiB per transfer; client in the main thread, server + upstreams in a worker`);

  // Baselines: the same transfer over plain TCP and over one mutual TLS 1.3 connection.
  const best3 = async (f: () => Promise<number>): Promise<number> => Math.min(await f(), await f(), await f());
  const tcpOpen = async (): Promise<Duplex> => {
    const s = net.connect(ports.sink, '127.0.0.1');
    await once(s, 'connect');
    return s;
  };
  const tlsOpen = async (): Promise<Duplex> => {
    const s = tls.connect({ ...meshClientTlsOptions(clientCert, 'spiffe://cluster.local/ns/bench/sa/server'), host: '127.0.0.1', port: ports.tls });
    await once(s, 'secureConnect');
    return s;
  };
  console.log(`plain TCP   upload   ${rate(await best3(async () => upload(await tcpOpen())))}`);
  console.log(`mTLS 1.3    upload   ${rate(await best3(async () => upload(await tlsOpen())))}`);
  console.log(`HBONE       upload   ${rate(await best3(async () => upload(await open(ports.sink))))}`);
  console.log(`HBONE       download ${rate(await best3(async () => download(await open(ports.emitter))))}`);

  if (process.argv[3] === 'throughput') {
    await pool.close();
    await worker.terminate();
    return;
  }

  // Stream setup on a warm session: CONNECT -> authorize -> upstream TCP connect -> 200.
  const N = 2000;
  const lat: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = process.hrtime.bigint();
    const s = await open(ports.echo);
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const closed = once(s, 'close');
    s.end();
    s.resume();
    await closed;
  }
  console.log(`setup latency, sequential, warm session (n=${N}): p50 ${pct(lat, 0.5).toFixed(3)} ms, p99 ${pct(lat, 0.99).toFixed(3)} ms`);
  const t0 = process.hrtime.bigint();
  const C = 100;
  const streams = await Promise.all(Array.from({ length: C }, () => open(ports.echo)));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  streams.forEach((s) => s.destroy());
  console.log(`${C} concurrent setups: ${ms.toFixed(1)} ms total (${((C / ms) * 1000).toFixed(0)} streams/s); sessions opened: ${pool.stats().sessionsOpened}`);

  await pool.close();
  await worker.terminate();
}

if (isMainThread) await main();
else await farSide(workerData as { server: WorkloadTlsMaterial });
