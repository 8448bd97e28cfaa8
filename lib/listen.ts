import type net from 'node:net';
import type { Logger } from './log.js';

/** Where to listen: an address, or a socket already bound (for options Node cannot set, such as SO_REUSEPORT). */
export type ListenOn = { host: string; port: number; backlog?: number } | { handle: { fd: number }; backlog?: number };

/**
 * Starts a listener; a failure to listen rejects. Afterwards its errors
 * (EMFILE on accept, say) are logged and it keeps serving: without a handler
 * one transient error would crash the process and drop every open connection.
 */
export function listen<S extends net.Server>(server: S, on: ListenOn, log: Logger, what: string): Promise<S> {
  return new Promise((resolve, reject) => {
    const ready = () => {
      server.off('error', reject);
      server.on('error', (err) => log.error({ err: err.message, listener: what }, 'listener error; still serving'));
      resolve(server);
    };
    server.once('error', reject);
    if ('handle' in on) server.listen(on.handle, on.backlog ?? 4096, ready);
    else server.listen({ host: on.host, port: on.port, backlog: on.backlog ?? 4096 }, ready);
  });
}
