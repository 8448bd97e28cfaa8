/**
 * The measurement behind the key algorithm choice (ECDSA P-256 vs RSA-2048), using this
 * library's own CA and certificates. Not a test; run after building:
 *
 *   node dist/lib/identity/bench-key-algorithm.js [seconds=3] [concurrency=4]
 *
 * (a) key generation: ms per key, generateKeyPairSync in a loop.
 * (b) mutual TLS 1.3 handshakes on loopback: the server runs in a child process (so each
 *     side has its own event loop and core), the client opens `concurrency` connections in
 *     parallel, each doing a full handshake (no resumption) and waiting for one byte from
 *     the server so both sides finished verifying. Reports connections/s and the CPU time
 *     per handshake on each side (process.cpuUsage, all threads).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createRootCa, signWorkloadCsr } from '../lib/identity/ca.js';
import { generateKeyObject, type KeyAlgorithm } from '../lib/identity/der.js';
import { createCsr, generateWorkloadKey } from '../lib/identity/workload.js';
import { meshClientTlsOptions, meshTlsOptions, type WorkloadTlsMaterial } from '../lib/identity/verify.js';

const ALGS: KeyAlgorithm[] = ['ec-p256', 'rsa-2048'];
const SERVER_ID = 'spiffe://cluster.local/ns/bench/sa/server';

function material(alg: KeyAlgorithm): { server: WorkloadTlsMaterial; client: WorkloadTlsMaterial } {
  const ca = createRootCa({ trustDomain: 'cluster.local', keyAlgorithm: alg });
  const make = (uri: string): WorkloadTlsMaterial => {
    const key = generateWorkloadKey(alg);
    const r = signWorkloadCsr(ca, createCsr(key, uri), { spiffeId: uri });
    if (!r.ok) throw r.error;
    return { keyPem: key.keyPem, certChainPem: r.value, rootPem: ca.certPem };
  };
  return { server: make(SERVER_ID), client: make('spiffe://cluster.local/ns/bench/sa/client') };
}

function keygenMs(alg: KeyAlgorithm): number {
  const n = alg === 'ec-p256' ? 500 : 10;
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) generateKeyObject(alg);
  return Number(process.hrtime.bigint() - t) / 1e6 / n;
}

async function serverMain(): Promise<void> {
  let handshakes = 0;
  let cpu0 = process.cpuUsage();
  const srv = tls.createServer(meshTlsOptions(JSON.parse(process.env.BENCH_SERVER!) as WorkloadTlsMaterial), (s) => {
    handshakes++;
    s.on('error', () => {});
    s.end('x');
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  process.send!({ port: (srv.address() as AddressInfo).port });
  process.on('message', (m) => {
    if (m === 'reset') {
      handshakes = 0;
      cpu0 = process.cpuUsage();
      process.send!('ok');
    } else {
      const c = process.cpuUsage(cpu0);
      process.send!({ handshakes, cpuUs: c.user + c.system }, () => process.exit(0));
    }
  });
}

async function handshakeBench(alg: KeyAlgorithm, seconds: number, concurrency: number) {
  const { server, client } = material(alg);
  const child = fork(fileURLToPath(import.meta.url), ['--server'], { env: { ...process.env, BENCH_SERVER: JSON.stringify(server) } });
  const [{ port }] = (await once(child, 'message')) as [{ port: number }];
  const ctx = tls.createSecureContext(meshTlsOptions(client));
  const { checkServerIdentity } = meshClientTlsOptions(client, SERVER_ID);
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, secureContext: ctx, checkServerIdentity });
      s.once('data', () => {
        s.destroy();
        resolve();
      });
      s.on('error', reject);
    });
  const run = async (secs: number) => {
    const end = Date.now() + secs * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < end) {
          await one();
          n++;
        }
      }),
    );
    return n;
  };
  await run(0.5); // warm up
  child.send('reset');
  await once(child, 'message');
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const n = await run(seconds);
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(cpu0);
  child.send('stop');
  const [srv] = (await once(child, 'message')) as [{ handshakes: number; cpuUs: number }];
  return {
    connPerSec: Math.round(n / elapsed),
    clientCpuUsPerHandshake: Math.round((c.user + c.system) / n),
    serverCpuUsPerHandshake: Math.round(srv.cpuUs / srv.handshakes),
  };
}

async function main(): Promise<void> {
  if (process.argv.includes('--server')) return serverMain();
  const seconds = Number(process.argv[2] ?? 3);
  const concurrency = Number(process.argv[3] ?? 4);
  console.log(`node ${process.version}, OpenSSL ${process.versions.openssl}, ${seconds}s per run, concurrency ${concurrency}`);
  for (const alg of ALGS) {
    console.log(alg, { keygenMsPerKey: +keygenMs(alg).toFixed(3), ...(await handshakeBench(alg, seconds, concurrency)) });
  }
}

await main();
