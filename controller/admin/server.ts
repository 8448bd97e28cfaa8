import http from 'node:http';
import type { Logger } from '../../lib/log.js';
import type { ControllerMetrics } from './metrics.js';

export interface AdminDeps {
  metrics: ControllerMetrics;
  /** Why the controller is not ready, or undefined when it is. */
  notReady(): string | undefined;
  agents(): unknown;
  model(): unknown;
  log: Logger;
}

const ROUTES = ['/healthz', '/ready', '/metrics', '/debug/agents', '/debug/model'];

/** The controller's HTTP port (15014): health, readiness, Prometheus metrics, debug JSON. */
export function startAdmin(host: string, port: number, deps: AdminDeps): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    const json = (v: unknown) => send(200, `${JSON.stringify(v, null, 2)}\n`, 'application/json');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    try {
      switch (path) {
        case '/':
          return send(200, `Ambit controller\n${ROUTES.join('\n')}\n`);
        case '/healthz':
          return send(200, 'ok\n');
        case '/ready': {
          const why = deps.notReady();
          return why ? send(503, `not ready: ${why}\n`) : send(200, 'ready\n');
        }
        case '/metrics':
          deps.metrics.registry
            .metrics()
            .then((text) => send(200, text, deps.metrics.registry.contentType))
            .catch((err: unknown) => send(500, `${String(err)}\n`));
          return;
        case '/debug/agents':
          return json(deps.agents());
        case '/debug/model':
          return json(deps.model());
        default:
          return send(404, `not found: try ${ROUTES.join(', ')}\n`);
      }
    } catch (err) {
      deps.log.error({ err: String(err), path }, 'admin handler failed');
      return send(500, `${String(err)}\n`);
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
