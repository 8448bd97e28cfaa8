import type net from 'node:net';
import type { Logger } from './log.js';

/**
 * Starts a listener; a failure to listen rejects. Afterwards its errors
 * (EMFILE on accept, say) are logged and it keeps serving: without a handler
 * one transient error would crash the process and drop every open connection.
 */
export function listen<S extends net.Server>(server: S, opts: { host: string; port: number; backlog?: number }, log: Logger, what: string): Promise<S> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port, backlog: opts.backlog ?? 4096 }, () => {
      server.off('error', reject);
      server.on('error', (err) => log.error({ err: err.message, listener: what }, 'listener error; still serving'));
      resolve(server);
    });
  });
}
