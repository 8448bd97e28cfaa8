import net from 'node:net';
import { splice, type SpliceResult } from '../../lib/hbone/index.js';
import type { FastMaps, FastSocket } from './maps.js';
import { bytesTaken, drain, fdOf, kick, resetOnClose, socketCookie } from './sockets.js';

/**
 * One same-node connection carried by the kernel: two sockets the agent
 * owns, `a` (the client's) and `b` (the one it opened to the server pod).
 *
 * 1. Hand-over: whatever Node has already read from either socket, and then
 *    whatever the socket still has queued, is written to the other one; once
 *    that went straight into the kernel, in the same turn of the event loop
 *    (Node reads nothing in between), both sockets join the sockmap. Bytes
 *    that arrive meanwhile wait in the receive queue, whole, behind those, and
 *    the verdict program moves them.
 * 2. Carrying: the kernel redirects. When a peer falls behind, the verdict
 *    hands bytes up instead; the agent writes them on once the peer has taken
 *    every redirected byte (TCP_INFO), so the order holds, and tells the
 *    verdict how far it got (ambit_fast_fwd); see Direction.
 * 3. Ends: an end of stream shuts the other side's send direction down once
 *    that socket has taken every byte before it; an error or a reset resets
 *    the other side. When both sockets have closed, the bytes are the agent's
 *    own plus the flow records' redirected counts; the records are deleted
 *    (the sockmap entries went with the sockets). Until a socket's sending
 *    side ends cleanly it resets when closed, so if the agent dies the kernel
 *    resets both peers rather than ending their streams early but cleanly.
 */

/** How often the agent may copy what arrived during the hand-over before it gives up and splices in user space. */
const HANDOVER_ROUNDS = 8;
/** Polling for a socket to take its redirected bytes: first and longest wait. */
const SETTLE_FIRST_MS = 1;
const SETTLE_MAX_MS = 8;

export type JoinOutcome = { ok: true; result: Promise<SpliceResult>; abort(reason: string): void; cookies: [bigint, bigint] } | { ok: false; reason: string; result: Promise<SpliceResult> };

/**
 * Joins `a` and `b` in the kernel, or says why not and splices them in user
 * space instead (`result` is the same either way, as lib/hbone/splice.ts
 * reports it: a -> b is `streamToSocket`).
 */
export async function join(a: net.Socket, b: net.Socket, maps: FastMaps): Promise<JoinOutcome> {
  const fda = fdOf(a);
  const fdb = fdOf(b);
  if (fda === undefined || fdb === undefined) return fallback(a, b, { ab: 0, ba: 0 }, 'not two open TCP sockets');
  const base = [bytesTaken(fda), bytesTaken(fdb)];
  const cookies = [socketCookie(fda), socketCookie(fdb)];
  if (base.some((x) => x === undefined) || cookies.some((x) => x === undefined)) return fallback(a, b, { ab: 0, ba: 0 }, 'TCP_INFO or SO_COOKIE unavailable');
  const handed = await handOver(a, b, fda, fdb);
  if (!handed.ok) return fallback(a, b, handed.copied, handed.reason);
  const sa: FastSocket = { fd: fda, cookie: cookies[0]! };
  const sb: FastSocket = { fd: fdb, cookie: cookies[1]! };
  const joined = maps.join(sa, sb);
  if (!joined.ok) return fallback(a, b, handed.copied, joined.error);
  for (const fd of [fda, fdb]) {
    resetOnClose(fd, true);
    kick(fd);
  }
  const carried = new Carried(maps, [
    { sock: a, s: sa, base: base[0]!, written: handed.copied.ba },
    { sock: b, s: sb, base: base[1]!, written: handed.copied.ab },
  ], handed.copied);
  return { ok: true, result: carried.done, abort: (reason) => carried.abort(reason), cookies: [sa.cookie, sb.cookie] };
}

function fallback(a: net.Socket, b: net.Socket, copied: { ab: number; ba: number }, reason: string): JoinOutcome {
  const result = splice(a, b).then((r) => ({ ...r, streamToSocket: r.streamToSocket + copied.ab, socketToStream: r.socketToStream + copied.ba }));
  return { ok: false, reason, result };
}

type HandOver = { ok: true; copied: { ab: number; ba: number } } | { ok: false; reason: string; copied: { ab: number; ba: number } };

/** Moves what was received across until a turn ends with nothing buffered in user space on either side. */
async function handOver(a: net.Socket, b: net.Socket, fda: number, fdb: number): Promise<HandOver> {
  const copied = { ab: 0, ba: 0 };
  for (let round = 0; round < HANDOVER_ROUNDS; round++) {
    if (a.destroyed || b.destroyed) return { ok: false, reason: 'a socket closed during the hand-over', copied };
    const writes: Promise<void>[] = [];
    const failed = take(a, fda, b, writes, (n) => (copied.ab += n)) ?? take(b, fdb, a, writes, (n) => (copied.ba += n));
    if (failed) {
      // A reset the agent read itself: Node will not see it again, so pass it on here.
      a.resetAndDestroy();
      b.resetAndDestroy();
      return { ok: false, reason: failed, copied };
    }
    if (a.writableLength === 0 && b.writableLength === 0) return { ok: true, copied };
    await Promise.all(writes);
  }
  return { ok: false, reason: 'the hand-over did not settle', copied };
}

/** Writes to `to` what `from` has received, Node's buffer first, then the socket's queue; says why not if it cannot. */
function take(from: net.Socket, fd: number, to: net.Socket, writes: Promise<void>[], count: (n: number) => void): string | undefined {
  const buffered = from.readableLength > 0 ? (from.read() as Buffer | null) : null;
  const queued = drain(fd);
  if (!queued.ok) return queued.reason;
  for (const chunk of [buffered, queued.data]) {
    if (!chunk) continue;
    writes.push(new Promise((resolve) => to.write(chunk, () => resolve())));
    count(chunk.length);
  }
  return undefined;
}

interface End {
  sock: net.Socket;
  s: FastSocket;
  /** bytesTaken() of this socket before the agent wrote anything to it. */
  base: bigint;
  /** Bytes the agent itself wrote to it (and the socket took): the hand-over's and forwarded ones. */
  written: number;
}

/** The connection once joined: one Direction each way, and the end of both. */
class Carried {
  readonly done: Promise<SpliceResult>;
  private error: Error | undefined;
  private finished = false;
  private readonly dirs: [Direction, Direction];
  private closed = 0;
  private resolve!: (r: SpliceResult) => void;

  constructor(
    private readonly maps: FastMaps,
    private readonly ends: [End, End],
    copied: { ab: number; ba: number },
  ) {
    this.done = new Promise((r) => (this.resolve = r));
    const [x, y] = ends;
    this.dirs = [new Direction(this, maps, x, y, copied.ab), new Direction(this, maps, y, x, copied.ba)];
    for (const [i, end] of ends.entries()) {
      const other = ends[1 - i]!.sock;
      end.sock.on('error', (e: Error) => this.fail(e, other));
      end.sock.on('close', () => {
        if (!this.dirs[i]!.ended) this.fail(new Error('socket closed before its end'), other);
        if (++this.closed === 2) this.finish();
      });
      this.dirs[i]!.start();
    }
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** The first error wins; the other side is reset, as a reset the agent saw. */
  fail(e: Error, other: net.Socket): void {
    this.error ??= e;
    if (!other.destroyed) other.resetAndDestroy();
  }

  abort(reason: string): void {
    const e = new Error(reason);
    for (const end of this.ends) this.fail(e, end.sock);
  }

  private finish(): void {
    this.finished = true;
    const [ab, ba] = this.dirs.map((d) => d.total());
    this.maps.forget(this.ends.map((e) => e.s.cookie));
    this.resolve({ streamToSocket: ab!, socketToStream: ba!, error: this.error });
  }
}

/**
 * One direction, `from` -> `to`: the kernel's, except what it hands up.
 *
 * Node keeps reading `from` while the kernel carries the bytes, which yields
 * nothing but the end of stream, an error, or bytes the verdict passed up
 * (in order: once the socket is in the sockmap, every byte it receives goes
 * through the verdict, and Node reads only what it passed). The agent pipes
 * those on, but after a stretch in the kernel only once `to` has taken every
 * byte redirected before them, and tells the verdict how many it has written
 * (ambit_fast_fwd): the kernel takes over again at the first segment that
 * finds the agent with nothing pending.
 */
class Direction {
  ended = false;
  /** Bytes of `from` the agent moved itself: the hand-over's, then what the verdict passed up. */
  private own: number;
  /** Of those, bytes passed up and written on (what ambit_fast_fwd says). */
  private forwarded = 0n;
  /** The flow's `redirected` count that `to` was last seen to have taken. */
  private settledAt = 0n;
  private chain: Promise<void> = Promise.resolve();
  /** Passed-up chunks that wait for `to` to take the bytes redirected before them. */
  private waiting: Buffer[] | undefined;
  /** `to` holds more than its high-water mark: `from` is paused until it drains. */
  private full = false;

  constructor(
    private readonly c: Carried,
    private readonly maps: FastMaps,
    private readonly from: End,
    private readonly to: End,
    handed: number,
  ) {
    this.own = handed;
  }

  start(): void {
    const { sock } = this.from;
    sock.on('data', (chunk: Buffer) => this.passedUp(chunk));
    const onEnd = () => {
      this.ended = true;
      this.then(async () => {
        await this.settle();
        if (this.to.sock.destroyed) return;
        resetOnClose(this.to.s.fd, false);
        this.to.sock.end();
      });
    };
    // The hand-over may have read the last bytes and the end of stream already.
    if (sock.readableEnded) onEnd();
    else sock.on('end', onEnd);
    sock.resume();
  }

  /** Bytes `from` -> `to` in all: the agent's own and the kernel's. */
  total(): number {
    return this.own + Number(this.maps.flow(this.from.s.cookie)?.redirected ?? 0n);
  }

  private passedUp(chunk: Buffer): void {
    this.own += chunk.length;
    if (this.waiting) {
      this.waiting.push(chunk);
      return;
    }
    if ((this.maps.flow(this.from.s.cookie)?.redirected ?? this.settledAt) === this.settledAt) {
      this.write(chunk);
      return;
    }
    // The kernel redirected bytes since `to` was last seen to have taken them all: wait for it.
    this.waiting = [chunk];
    this.from.sock.pause();
    this.then(async () => {
      await this.settle();
      const chunks = this.waiting ?? [];
      this.waiting = undefined;
      for (const c of chunks) this.write(c);
      if (!this.full && !this.from.sock.destroyed) this.from.sock.resume();
    });
  }

  /** Pipes a passed-up chunk to `to`, with backpressure, and tells the verdict once `to` has it. */
  private write(chunk: Buffer): void {
    const to = this.to.sock;
    if (to.destroyed) return;
    const room = to.write(chunk, (err) => {
      if (err || this.c.isFinished) return;
      this.to.written += chunk.length;
      this.forwarded += BigInt(chunk.length);
      try {
        this.maps.setForwarded(this.from.s.cookie, this.forwarded);
      } catch (e) {
        this.c.abort(`fast path: ${(e as Error).message}`);
      }
    });
    if (room || this.full) return;
    this.full = true;
    this.from.sock.pause();
    to.once('drain', () => {
      this.full = false;
      if (!this.waiting && !this.from.sock.destroyed) this.from.sock.resume();
    });
  }

  /** Runs `step` after the earlier ones; a failure aborts the connection. */
  private then(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((e: unknown) => this.c.abort(`fast path: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** Resolves once `to` has taken every byte the kernel redirected to it so far (or is gone). */
  private async settle(): Promise<void> {
    const flow = this.maps.flow(this.from.s.cookie);
    if (!flow || flow.redirected === this.settledAt) return;
    const want = flow.redirected;
    for (let wait = SETTLE_FIRST_MS; !this.to.sock.destroyed; wait = Math.min(wait * 2, SETTLE_MAX_MS)) {
      const taken = bytesTaken(this.to.s.fd);
      if (taken === undefined || taken - this.to.base >= BigInt(this.to.written) + want) break;
      await new Promise((r) => setTimeout(r, wait));
    }
    this.settledAt = want;
  }
}
