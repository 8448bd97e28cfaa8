/** The default way a server reaches a tunnel's destination: a plain TCP connect. */
import net from 'node:net';
import { fail, ok, type Result } from '../errors.js';
import type { HostPort } from './authority.js';
import { DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS } from './constants.js';
import { HboneError } from './errors.js';

export interface ConnectOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bind to this address first (for a foreign address, pass a transparent `socket`). */
  localAddress?: string;
  /** An unconnected, half-open-capable socket to connect (default: a new one). */
  socket?: net.Socket;
}

/**
 * A connected, half-open-capable TCP socket to `dest`, or an AMBIT_ERR_UPSTREAM_CONNECT value
 * (refused, unreachable, timed out). `signal` aborts the attempt.
 */
export function connectTcp(dest: HostPort, opts: ConnectOptions = {}): Promise<Result<net.Socket, HboneError>> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS;
  return new Promise((resolve) => {
    const sock = opts.socket ?? new net.Socket({ allowHalfOpen: true });
    sock.connect({ host: dest.host, port: dest.port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    const where = `${dest.family === 6 ? `[${dest.host}]` : dest.host}:${dest.port}`;
    const finish = (r: Result<net.Socket, HboneError>): void => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      sock.off('error', onError);
      resolve(r);
    };
    const onError = (e: Error & { code?: string }): void => {
      sock.destroy();
      finish(fail(new HboneError('AMBIT_ERR_UPSTREAM_CONNECT', `connect to ${where} failed (${e.code ?? e.message})`, { reason: e.code ?? e.message, cause: e })));
    };
    const onAbort = (): void => onError(Object.assign(new Error('aborted'), { code: 'ABORTED' }));
    const timer = setTimeout(() => onError(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
    sock.once('error', onError);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
    sock.once('connect', () => {
      sock.setNoDelay(true);
      sock.setKeepAlive(true, 30_000);
      sock.on('error', () => {}); // the owner (splice) reports errors; never an uncaught 'error'
      finish(ok(sock));
    });
  });
}
