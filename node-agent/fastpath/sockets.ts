import koffi from 'koffi';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { libc } from '../libc.js';

/**
 * What the fast path asks of a socket that Node does not expose: its
 * descriptor, its kernel cookie (the key of the sockmap), how many bytes it
 * has taken for sending (TCP_INFO), a read of everything it has queued, a
 * reset on close, and a nudge that makes the kernel run the verdict program
 * over bytes that arrived before the socket joined the map. All through libc
 * (koffi), on the descriptor.
 */

const SOL_SOCKET = 1;
const SO_LINGER = 13;
const SO_RCVLOWAT = 18;
const SO_COOKIE = 57;
const IPPROTO_TCP = 6;
const TCP_INFO = 11;

/** Offsets in struct tcp_info (linux/tcp.h); fastpath.test.ts checks them against the running kernel's BTF. */
export const TCP_INFO_LAYOUT = { size: 216, notsent_bytes: 144, bytes_sent: 200, bytes_retrans: 208 } as const;

const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;

/** The descriptor of a connected TCP socket; undefined for anything else (an HTTP/2 stream, a TLS socket). */
export function fdOf(d: Duplex): number | undefined {
  if (!(d instanceof net.Socket) || d.destroyed) return undefined;
  const fd = (d as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** The socket's cookie, as bpf_get_socket_cookie() sees it. */
export function socketCookie(fd: number): bigint | undefined {
  const value = Buffer.alloc(8);
  return libc().getsockopt(fd, SOL_SOCKET, SO_COOKIE, value, [8]) === 0 ? value.readBigUInt64LE() : undefined;
}

/**
 * Bytes the socket has taken from its writers since it was made: those sent
 * once (retransmissions not counted again) and those still waiting to be
 * sent. One TCP_INFO read, so the three counters are from one moment.
 */
export function bytesTaken(fd: number): bigint | undefined {
  const info = Buffer.alloc(280);
  const len = [info.length];
  if (libc().getsockopt(fd, IPPROTO_TCP, TCP_INFO, info, len) !== 0 || len[0]! < TCP_INFO_LAYOUT.size) return undefined;
  const l = TCP_INFO_LAYOUT;
  return info.readBigUInt64LE(l.bytes_sent) - info.readBigUInt64LE(l.bytes_retrans) + BigInt(info.readUInt32LE(l.notsent_bytes));
}

const ONE = Buffer.from([1, 0, 0, 0]);

/**
 * Setting SO_RCVLOWAT makes TCP call the socket's data-ready hook when bytes
 * are queued (tcp_set_rcvlowat), and once the socket is in the sockmap that
 * hook is the verdict program: bytes that arrived before the socket joined
 * are moved now instead of waiting for the next segment. 1 is the default.
 */
export function kick(fd: number): boolean {
  return libc().setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, ONE, 4) === 0;
}

/**
 * With `reset`, closing the socket resets the connection instead of ending
 * it (SO_LINGER on, zero seconds), whoever closes it: the kernel too, when
 * the agent dies. A joined connection carries that until it ends cleanly, so
 * a peer never takes an agent's death for the end of the stream.
 */
export function resetOnClose(fd: number, reset: boolean): boolean {
  const linger = Buffer.alloc(8);
  linger.writeInt32LE(reset ? 1 : 0, 0);
  return libc().setsockopt(fd, SOL_SOCKET, SO_LINGER, linger, linger.length) === 0;
}

/** Reads per recv() while draining; the queue itself is bounded by the socket's receive buffer. */
const DRAIN_CHUNK = 256 << 10;
const DRAIN_READS = 1024;

export type Drained = { ok: true; data: Buffer | undefined } | { ok: false; reason: string };

/** One non-blocking recv(); `data` is undefined when nothing is queued or at the end of stream. */
function recvOnce(fd: number, buf: Buffer): Drained {
  const n = Number(libc().recv(fd, buf, buf.length, MSG_DONTWAIT));
  if (n > 0) return { ok: true, data: buf.subarray(0, n) };
  if (n < 0 && koffi.errno() !== EAGAIN) return { ok: false, reason: `recv failed (errno ${koffi.errno()})` };
  return { ok: true, data: undefined };
}

/**
 * Reads everything the socket has queued, without blocking, until it would
 * block (or at its end of stream). Afterwards no segment in the receive queue
 * is half read: a socket joins the sockmap only in that state, because the
 * verdict takes a queued segment whole, from its first byte, whatever a
 * reader already consumed of it.
 */
export function drain(fd: number): Drained {
  const chunks: Buffer[] = [];
  for (let i = 0; i < DRAIN_READS; i++) {
    const r = recvOnce(fd, Buffer.allocUnsafe(DRAIN_CHUNK));
    if (!r.ok) return r;
    // Nothing more queued, or the end of stream, which Node reads again later.
    if (!r.data) return { ok: true, data: chunks.length ? Buffer.concat(chunks) : undefined };
    chunks.push(r.data);
  }
  return { ok: false, reason: 'the socket kept receiving faster than it could be drained' };
}
