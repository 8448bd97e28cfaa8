import http from 'node:http';
import type { Registry } from 'prom-client';
import { listen } from './listen.js';
import type { Logger } from './log.js';

export interface AdminOptions {
  /** Shown on `/`, e.g. "Ambit controller". */
  title: string;
  host: string;
  port: number;
  registry: Registry;
  /** Why the component is not ready, or undefined when it is. */
  notReady(): string | undefined;
  /** Extra GET routes answered with JSON, e.g. `/config_dump`. */
  json: Record<string, () => unknown>;
  log: Logger;
}

/**
 * A component's admin port: `/healthz`, `/ready`, `/metrics` (Prometheus)
 * and its JSON routes. GET and HEAD only; a failing handler answers 500
 * and is logged, never crashes the process.
 */
export function startAdminServer(opts: AdminOptions): Promise<http.Server> {
  const routes = ['/healthz', '/ready', '/metrics', ...Object.keys(opts.json)];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    try {
      if (path === '/') return send(200, `${opts.title}\n${routes.join('\n')}\n`);
      if (path === '/healthz') return send(200, 'ok\n');
      if (path === '/ready') {
        const why = opts.notReady();
        return why ? send(503, `not ready: ${why}\n`) : send(200, 'ready\n');
      }
      if (path === '/metrics') {
        opts.registry
          .metrics()
          .then((text) => send(200, text, opts.registry.contentType))
          .catch((err: unknown) => send(500, `${String(err)}\n`));
        return;
      }
      const json = opts.json[path];
      if (json) return send(200, `${JSON.stringify(json(), bigintAsString, 2)}\n`, 'application/json');
      return send(404, `not found: try ${routes.join(', ')}\n`);
    } catch (err) {
      opts.log.error({ err: String(err), path }, 'admin handler failed');
      return send(500, `${String(err)}\n`);
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return listen(server, { host: opts.host, port: opts.port, backlog: 511 }, opts.log, `admin (${opts.port})`);
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
