import net from 'node:net';
import koffi from 'koffi';
import { AmbitError } from '../../lib/errors.js';
import { libc } from '../libc.js';

/**
 * Transparent sockets (IP_TRANSPARENT), which Node cannot make itself: the
 * options must be set on the descriptor, through libc (koffi), and for an
 * outgoing socket before it binds. Needs CAP_NET_ADMIN.
 *
 * - A listener marked transparent receives the connections TPROXY hands it
 *   (addressed to pods, not to the node).
 * - An outgoing socket marked transparent may bind to an address the node
 *   does not own: the destination agent connects to a local pod *from the
 *   client pod's address*, so the application sees who called it, as it
 *   would without a mesh. The pod's replies are addressed to the client; the
 *   capture table's `socket transparent` rule steers them back to this socket.
 */

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_IP = 0;
const IP_TRANSPARENT = 19;

const ONE = Buffer.from([1, 0, 0, 0]);

function setTransparent(fd: number): void {
  if (libc().setsockopt(fd, SOL_IP, IP_TRANSPARENT, ONE, 4) !== 0) {
    throw new AmbitError('AMBIT_ERR_PRIVILEGE', `setsockopt(IP_TRANSPARENT) failed (errno ${koffi.errno()}): the agent needs CAP_NET_ADMIN`);
  }
}

/** Marks a listening server transparent, so TPROXY can hand it connections for foreign addresses. */
export function makeTransparent(server: net.Server): void {
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0) throw new AmbitError('AMBIT_ERR_PRIVILEGE', 'cannot reach the listener descriptor to set IP_TRANSPARENT');
  setTransparent(fd);
}

/**
 * An unconnected TCP socket that may bind to any address. Connect it with
 * `connect({ host, port, localAddress })`: Node binds the handle it was given
 * (the transparent one) to `localAddress` and connects it.
 */
export function transparentSocket(): net.Socket {
  const fd = libc().socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new AmbitError('AMBIT_ERR_PRIVILEGE', `socket() failed (errno ${koffi.errno()})`);
  try {
    setTransparent(fd);
  } catch (err) {
    libc().close(fd);
    throw err;
  }
  // manualStart: nothing may read from the descriptor before it is connected.
  return new net.Socket({ fd, readable: true, writable: true, allowHalfOpen: true, manualStart: true } as net.SocketConstructorOpts);
}
