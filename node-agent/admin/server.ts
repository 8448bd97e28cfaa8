import http from 'node:http';
import type { Logger } from '../../lib/log.js';
import type { AgentMetrics } from './metrics.js';

export interface AdminDeps {
  metrics: AgentMetrics;
  ready(): boolean;
  /** The JSON served on /config_dump. */
  configDump(): unknown;
  log: Logger;
}

/** The admin port (15020): /healthz, /ready, /metrics, /config_dump. */
export function startAdmin(host: string, port: number, deps: AdminDeps): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    switch (path) {
      case '/healthz':
        return send(200, 'ok\n');
      case '/ready':
        return deps.ready() ? send(200, 'ready\n') : send(503, 'not ready\n');
      case '/metrics':
        deps.metrics.registry
          .metrics()
          .then((text) => send(200, text, deps.metrics.registry.contentType))
          .catch((err: unknown) => send(500, `${String(err)}\n`));
        return;
      case '/config_dump':
        return send(200, `${JSON.stringify(deps.configDump(), bigintJson, 2)}\n`, 'application/json');
      default:
        return send(404, 'not found: try /healthz, /ready, /metrics, /config_dump\n');
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

function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
