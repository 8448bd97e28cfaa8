import http from 'node:http';
import type { Registry } from 'prom-client';
import { listen, type ListenOn } from './listen.js';
import type { Logger } from './log.js';

export interface AdminOptions {
  /** Shown on `/`, e.g. "Ambit controller". */
  title: string;
  /** Where to listen: an address, or a socket already bound (shared with a successor process). */
  listenOn: ListenOn;
  /** The metrics to serve, as one registry (a process may assemble it per scrape). */
  registry: Registry | (() => Promise<Registry>);
  /** Why the component is not ready, or undefined when it is. */
  notReady(): string | undefined;
  /** Extra GET routes answered with JSON, e.g. `/config_dump`. */
  json: Record<string, () => unknown>;
  /**
   * Whole subtrees served by their own handler, any method (the controller's
   * dashboard under `/ui/`): keyed by a prefix ending in `/`; the handler
   * owns the response, and the bare prefix without its slash redirects there.
   */
  mounts?: Record<string, http.RequestListener>;
  log: Logger;
}

/**
 * A component's admin port: `/healthz`, `/ready`, `/metrics` (Prometheus)
 * and its JSON routes (a handler may return a promise). GET and HEAD only; a
 * failing handler answers 500 and is logged, never crashes the process.
 * `/ready` names the process, so a probe can tell two processes sharing the
 * port apart (an agent and its successor during a rolling update).
 */
export function startAdminServer(opts: AdminOptions): Promise<http.Server> {
  const mounts = Object.entries(opts.mounts ?? {});
  const routes = ['/healthz', '/ready', '/metrics', ...Object.keys(opts.json), ...mounts.map(([prefix]) => prefix)];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      if (res.headersSent) return;
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    const failed = (err: unknown) => {
      opts.log.error({ err: String(err), path }, 'admin handler failed');
      send(500, `${String(err)}\n`);
    };
    try {
      for (const [prefix, handle] of mounts) {
        if (path.startsWith(prefix)) return handle(req, res);
        if (path === prefix.slice(0, -1)) {
          res.writeHead(308, { location: prefix });
          return res.end();
        }
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
      if (path === '/') return send(200, `${opts.title}\n${routes.join('\n')}\n`);
      if (path === '/healthz') return send(200, 'ok\n');
      if (path === '/ready') {
        const why = opts.notReady();
        return why ? send(503, `not ready (pid ${process.pid}): ${why}\n`) : send(200, `ready (pid ${process.pid})\n`);
      }
      if (path === '/metrics') {
        Promise.resolve(typeof opts.registry === 'function' ? opts.registry() : opts.registry)
          .then((r) => r.metrics().then((text) => send(200, text, r.contentType)))
          .catch(failed);
        return;
      }
      const json = opts.json[path];
      if (json) {
        Promise.resolve(json())
          .then((v) => send(200, `${JSON.stringify(v, bigintAsString, 2)}\n`, 'application/json'))
          .catch(failed);
        return;
      }
      return send(404, `not found: try ${routes.join(', ')}\n`);
    } catch (err) {
      return failed(err);
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  const where = 'handle' in opts.listenOn ? 'shared socket' : `${opts.listenOn.host}:${opts.listenOn.port}`;
  return listen(server, { backlog: 511, ...opts.listenOn }, opts.log, `admin (${where})`);
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
