import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { connectTcp, type SpliceResult } from '../../lib/hbone/index.js';
import { FastMaps } from './maps.js';
import { openFastPath, startFastPath, type FastPath } from './index.js';
import { bytesTaken, socketCookie, TCP_INFO_LAYOUT } from './sockets.js';
import { StaleFlowSweeper } from './sweep.js';

/**
 * The fast path against the real kernel, on loopback: an "agent" that
 * accepts a client, connects to a server and joins the two sockets, as the
 * node agent does for two pods of its node. Needs root (eBPF), like the
 * end-to-end tests, and fails rather than skips without it.
 */
const repo = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const objectDir = resolve(repo, 'bpf', 'build');
const log = pino({ level: 'silent' });

/** An agent on loopback: every accepted connection is joined to a new one to `target`. */
async function agent(fp: FastPath, target: number): Promise<{ port: number; results: Promise<SpliceResult>[]; server: net.Server }> {
  const results: Promise<SpliceResult>[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    client.on('error', () => {});
    results.push(
      connectTcp({ host: '127.0.0.1', port: target, family: 4 }).then((up) => {
        assert.ok(up.ok);
        return fp.splice(client, up.value);
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, results, server };
}

async function listen(onConnection: (s: net.Socket) => void): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer({ allowHalfOpen: true }, onConnection);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, server };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Reads a socket to its end; resolves with what came, or the error. */
function readAll(s: net.Socket): Promise<{ data: Buffer; error?: string }> {
  const chunks: Buffer[] = [];
  return new Promise((r) => {
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => r({ data: Buffer.concat(chunks) }));
    s.on('error', (e: NodeJS.ErrnoException) => r({ data: Buffer.concat(chunks), error: e.code ?? e.message }));
  });
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((r) => {
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => r(s));
  });
}

describe('same-node fast path (sockmap, real kernel)', { timeout: 120_000 }, () => {
  const pinDir = `/sys/fs/bpf/ambit-test-fast-${randomBytes(3).toString('hex')}`;
  let fp: FastPath;
  let maps: FastMaps;
  const closers: (() => void)[] = [];

  before(() => {
    if (process.getuid?.() !== 0) throw new Error('the fast path tests load eBPF: run them as root');
    fp = startFastPath({ enabled: true, objectDir, pinDir, log });
    maps = FastMaps.open(pinDir);
    assert.equal(fp.status().path, 'kernel', JSON.stringify(fp.status()));
  });

  after(() => {
    for (const c of closers) c();
    fp?.close();
    maps?.close();
    rmSync(pinDir, { recursive: true, force: true });
  });

  /** Waits until the fast path has joined `n` more connections than when the test began. */
  let joinedBefore = 0;
  const joined = async (n: number) => {
    for (let i = 0; i < 200 && fp.status().joined < joinedBefore + n; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(fp.status().joined, joinedBefore + n, 'joined in the kernel');
    joinedBefore += n;
  };

  const track = <T extends { server: net.Server }>(x: T): T => {
    closers.push(() => x.server.close());
    return x;
  };

  it('carries bytes both ways in the kernel and counts them exactly, with a half-close each way', async () => {
    const request = randomBytes(3 << 20);
    const response = randomBytes(5 << 20);
    const server = track(
      await listen((s) => {
        void readAll(s).then(async ({ data }) => {
          // The client has ended its side; the server still answers, then ends.
          assert.equal(sha(data), sha(request));
          s.write(response.subarray(0, 1000));
          await new Promise((r) => setTimeout(r, 50));
          s.end(response.subarray(1000));
        });
      }),
    );
    const a = track(await agent(fp, server.port));
    const before = maps.stat('fast_redirected_bytes');
    const client = await connect(a.port);
    const got = readAll(client);
    // A client that ends its side before the agent has joined the sockets is spliced in user space.
    await joined(1);
    client.end(request);
    const { data, error } = await got;
    assert.equal(error, undefined);
    assert.equal(sha(data), sha(response));
    const r = await a.results[0]!;
    assert.deepEqual(r, { streamToSocket: request.length, socketToStream: response.length, error: undefined });
    // Most of it, at least: this server shares the test's event loop and falls behind now and then.
    const moved = maps.stat('fast_redirected_bytes') - before;
    assert.ok(moved > BigInt(request.length + response.length) / 2n, `the kernel moved ${moved} bytes`);
  });

  it('moves bytes sent before the hand-over first, then the rest in order', async () => {
    const server = track(
      await listen((s) => {
        s.write('hello from the server\n');
        s.on('data', (d) => s.write(d));
        s.on('end', () => s.end());
      }),
    );
    const a = track(await agent(fp, server.port));
    const client = await connect(a.port);
    const got = readAll(client);
    client.write('early bytes\n');
    await joined(1);
    client.end('late bytes\n');
    const { data } = await got;
    assert.equal(data.toString(), 'hello from the server\nearly bytes\nlate bytes\n');
    assert.deepEqual(await a.results[0]!, { streamToSocket: 23, socketToStream: 45, error: undefined });
  });

  it('hands a slow reader\'s bytes up to the agent, bounded, and gives them back to the kernel', async () => {
    const payload = randomBytes(48 << 20);
    let reader!: net.Socket;
    const server = track(
      await listen((s) => {
        reader = s;
        s.pause();
      }),
    );
    const a = track(await agent(fp, server.port));
    const toAgent = maps.stat('fast_to_agent');
    const toKernel = maps.stat('fast_to_kernel');
    const client = await connect(a.port);
    client.on('error', () => {});
    await joined(1);
    client.write(payload);
    // The reader takes nothing for a while: the kernel must not queue 48 MiB for it.
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(maps.stat('fast_to_agent') > toAgent, 'the direction went to the agent');
    assert.ok(client.writableLength > 8 << 20, `the client is held back by TCP (${client.writableLength} bytes still in it)`);
    const got = readAll(reader);
    reader.resume();
    client.end();
    const { data } = await got;
    assert.equal(sha(data), sha(payload), 'every byte, in order');
    reader.end();
    const r = await a.results[0]!;
    assert.equal(r.streamToSocket, payload.length);
    assert.ok(maps.stat('fast_to_kernel') > toKernel, 'and back to the kernel once the agent caught up');
  });

  it('resets a connection that keeps sending while neither end reads, instead of queueing without bound', async () => {
    const server = track(
      await listen((s) => {
        s.on('error', () => {});
        s.pause();
        s.write(randomBytes(32 << 20));
      }),
    );
    const a = track(await agent(fp, server.port));
    const broken = maps.stat('fast_broken');
    const client = await connect(a.port);
    client.pause();
    await joined(1);
    const chunk = randomBytes(1 << 20);
    const failed = new Promise<string>((r) => client.on('error', (e: NodeJS.ErrnoException) => r(e.code ?? e.message)));
    const pump = setInterval(() => {
      for (let i = 0; i < 16 && client.writableLength < 64 << 20 && !client.destroyed; i++) {
        client.write(chunk);
      }
    }, 5);
    try {
      assert.match(await failed, /ECONNRESET|EPIPE/);
    } finally {
      clearInterval(pump);
    }
    assert.ok(maps.stat('fast_broken') > broken, 'the verdict declared it broken');
    // Until the reset (within a second) the verdict drops what arrives, so nothing piles up meanwhile.
    assert.match(String((await a.results[0]!).error?.message), /bound was exceeded/);
  });

  it('propagates a reset', async () => {
    const server = track(await listen((s) => s.once('data', () => s.resetAndDestroy())));
    const a = track(await agent(fp, server.port));
    const client = await connect(a.port);
    const got = readAll(client);
    await joined(1);
    client.write('x');
    assert.equal((await got).error, 'ECONNRESET');
    assert.ok((await a.results[0]!).error);
  });

  it('leaves nothing in its maps after many connections', async () => {
    const server = track(await listen((s) => s.on('data', (d) => s.end(d))));
    const a = track(await agent(fp, server.port));
    const n = 600;
    for (let batch = 0; batch < n / 50; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          const c = await connect(a.port);
          const got = readAll(c);
          c.write('ping');
          assert.equal((await got).data.toString(), 'ping');
          c.end();
        }),
      );
    }
    const results = await Promise.all(a.results);
    assert.equal(results.length, n);
    assert.ok(results.every((r) => r.streamToSocket === 4 && r.socketToStream === 4 && !r.error));
    joinedBefore = fp.status().joined;
    assert.equal(fp.status().open, 0);
    assert.deepEqual(maps.recordedCookies(), []);
    assert.equal(maps.peerEntries(), 0, 'the kernel dropped every socket from the sockmap');
  });

  it('sweeps the records an agent that died left behind, at the second look', async () => {
    // What a SIGKILLed agent leaves: records of sockets that are closed.
    const server = track(await listen(() => {}));
    const sockets = await Promise.all([connect(server.port), connect(server.port)]);
    const [x, y] = sockets.map((s) => ({ fd: (s as unknown as { _handle: { fd: number } })._handle.fd, cookie: socketCookie((s as unknown as { _handle: { fd: number } })._handle.fd)! }));
    assert.ok(maps.join(x!, y!).ok);
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const sweeper = new StaleFlowSweeper(maps);
    assert.equal(sweeper.sweep(), 0, 'a first look only suspects');
    assert.equal(sweeper.sweep(), 2);
    assert.deepEqual(maps.recordedCookies(), []);
    assert.equal(maps.peerEntries(), 0);
  });

  it('works from a worker thread, with maps opened there', async () => {
    const server = track(await listen((s) => s.on('data', (d) => s.end(d))));
    const worker = new Worker(new URL('./worker.fixture.js', import.meta.url), { workerData: { pinDir, target: server.port } });
    const port = await new Promise<number>((r) => worker.once('message', r));
    const before = maps.stat('fast_redirected_bytes');
    const c = await connect(port);
    const got = readAll(c);
    // Give the worker's join a moment, so the bytes go through the kernel rather than the hand-over.
    await new Promise((r) => setTimeout(r, 200));
    c.write('from the worker');
    assert.equal((await got).data.toString(), 'from the worker');
    c.end();
    const r = await new Promise((res) => worker.once('message', res));
    assert.deepEqual(r, { path: 'kernel', streamToSocket: 15, socketToStream: 15 });
    assert.ok(maps.stat('fast_redirected_bytes') > before);
    await worker.terminate();
  });

  it('splices in user space, and says why, where the maps are not there', () => {
    const none = openFastPath({ pinDir: `${pinDir}-missing`, log });
    assert.equal(none.status().path, 'userspace');
    assert.match(none.status().reason ?? '', /missing/);
  });

  it('reads TCP_INFO at the offsets the running kernel has', () => {
    const raw = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'raw'], { maxBuffer: 256 << 20 }).toString();
    const start = raw.indexOf("STRUCT 'tcp_info' ");
    const block = raw.slice(start, raw.indexOf('\n[', start));
    const offset = (field: string) => Number(new RegExp(`'tcpi_${field}' type_id=\\d+ bits_offset=(\\d+)`).exec(block)?.[1]) / 8;
    assert.deepEqual(
      { notsent_bytes: offset('notsent_bytes'), bytes_sent: offset('bytes_sent'), bytes_retrans: offset('bytes_retrans') },
      { notsent_bytes: TCP_INFO_LAYOUT.notsent_bytes, bytes_sent: TCP_INFO_LAYOUT.bytes_sent, bytes_retrans: TCP_INFO_LAYOUT.bytes_retrans },
    );
    assert.ok(TCP_INFO_LAYOUT.size >= offset('bytes_retrans') + 8);
    assert.equal(bytesTaken(-1), undefined);
  });
});
