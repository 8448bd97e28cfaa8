import net from 'node:net';
import koffi from 'koffi';
import { AmbitError } from '../../lib/errors.js';
import type { AgentConfig } from '../config.js';
import { libc } from '../libc.js';

/**
 * Sockets Node cannot make itself, made through libc (koffi) and handed to
 * Node as descriptors. Options that must be set before bind are set here.
 *
 * - Listeners with SO_REUSEPORT: every worker thread of the agent listens on
 *   the same ports, and the kernel spreads new connections over them; a
 *   restarted agent listens beside the old one before the old one stops, so
 *   no connection finds the port closed.
 * - IP_TRANSPARENT on the plaintext listener (TPROXY hands it connections
 *   addressed to pods, not to the node), and on outgoing sockets that bind to
 *   an address the node does not own: the destination agent connects to a
 *   local pod *from the client pod's address*, so the application sees who
 *   called it. The pod's replies are addressed to the client; the capture
 *   table's `socket transparent` rule steers them back to this socket.
 *
 * Needs CAP_NET_ADMIN (transparent) and the agent's own user for every
 * SO_REUSEPORT listener of a port (the kernel refuses to share with others).
 */

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_REUSEPORT = 15;
const SOL_IP = 0;
const IP_TRANSPARENT = 19;

const ONE = Buffer.from([1, 0, 0, 0]);

function option(fd: number, level: number, name: number, what: string): void {
  if (libc().setsockopt(fd, level, name, ONE, 4) !== 0) {
    throw new AmbitError('AMBIT_ERR_PRIVILEGE', `setsockopt(${what}) failed (errno ${koffi.errno()})${name === IP_TRANSPARENT ? ': the agent needs CAP_NET_ADMIN' : ''}`);
  }
}

/** `struct sockaddr_in` for an IPv4 address and port. */
function sockaddrIn(host: string, port: number): Buffer {
  if (!net.isIPv4(host)) throw new AmbitError('AMBIT_ERR_CONFIG', `not an IPv4 address: ${JSON.stringify(host)}`);
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_INET, 0);
  b.writeUInt16BE(port, 2);
  host.split('.').forEach((o, i) => (b[4 + i] = Number(o)));
  return b;
}

function newSocket(): number {
  const fd = libc().socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new AmbitError('AMBIT_ERR_PRIVILEGE', `socket() failed (errno ${koffi.errno()})`);
  return fd;
}

/**
 * A bound (not yet listening) TCP socket on `host:port` that other sockets of
 * this user may share (SO_REUSEPORT); pass it to `server.listen(handle)`,
 * which listens on it.
 */
export function sharedListener(host: string, port: number, opts: { transparent?: boolean } = {}): { fd: number } {
  const fd = newSocket();
  try {
    option(fd, SOL_SOCKET, SO_REUSEADDR, 'SO_REUSEADDR');
    option(fd, SOL_SOCKET, SO_REUSEPORT, 'SO_REUSEPORT');
    if (opts.transparent) option(fd, SOL_IP, IP_TRANSPARENT, 'IP_TRANSPARENT');
    if (libc().bind(fd, sockaddrIn(host, port), 16) !== 0) {
      const errno = koffi.errno();
      throw new AmbitError('AMBIT_ERR_CONFIG', `cannot bind ${host}:${port} (errno ${errno}${errno === 98 ? ': EADDRINUSE, another process holds it without SO_REUSEPORT' : ''})`);
    }
    return { fd };
  } catch (err) {
    libc().close(fd);
    throw err;
  }
}

/**
 * An unconnected TCP socket that may bind to any address. Connect it with
 * `connect({ host, port, localAddress })`: Node binds the handle it was given
 * (the transparent one) to `localAddress` and connects it.
 */
export function transparentSocket(): net.Socket {
  const fd = newSocket();
  try {
    option(fd, SOL_IP, IP_TRANSPARENT, 'IP_TRANSPARENT');
  } catch (err) {
    libc().close(fd);
    throw err;
  }
  // manualStart: nothing may read from the descriptor before it is connected.
  return new net.Socket({ fd, readable: true, writable: true, allowHalfOpen: true, manualStart: true } as net.SocketConstructorOpts);
}

/** Where the data path listens; each worker binds its own socket to each (SO_REUSEPORT). */
export function dataPathAddresses(cfg: Readonly<AgentConfig>) {
  return {
    outbound: { host: cfg.redirectIp, port: cfg.outboundPort },
    // Transparent, for TPROXY; without the capture nothing reaches it but the port stays reserved.
    inbound: { host: '0.0.0.0', port: cfg.inboundPort, transparent: cfg.inboundCapture },
    hbone: { host: cfg.nodeIp, port: cfg.hbonePort },
  };
}

type Address = { host: string; port: number; transparent?: boolean };

/** A `sharedListener` for one of `dataPathAddresses`. */
export const sharedListenerAt = (a: Address) => sharedListener(a.host, a.port, { transparent: a.transparent });

/**
 * Listening sockets that accept nothing: an agent that starts where none is
 * listening (the last one crashed) opens them at once, so a connection that
 * arrives before its workers listen waits in the kernel's accept queue
 * instead of being refused. When they close, the kernel moves what is queued
 * to the workers' listeners of the same ports (tcp_migrate_req, handover.ts).
 * No connection is admitted through them: a worker takes each one with a
 * complete config, and applies policy as to any other.
 */
export function holdingListeners(ports: readonly Address[]): { close(): void } {
  const fds: number[] = [];
  try {
    for (const p of ports) {
      const { fd } = sharedListenerAt(p);
      fds.push(fd);
      if (libc().listen(fd, 4096) !== 0) throw new AmbitError('AMBIT_ERR_CONFIG', `cannot listen on ${p.host}:${p.port} (errno ${koffi.errno()})`);
    }
  } catch (err) {
    for (const fd of fds) libc().close(fd);
    throw err;
  }
  return { close: () => fds.splice(0).forEach((fd) => libc().close(fd)) };
}
