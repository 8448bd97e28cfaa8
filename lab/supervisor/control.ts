import http from 'node:http';
import { existsSync, unlinkSync } from 'node:fs';
import { AmbitError, ErrorCodes, type ErrorCode } from '../../lib/errors.js';

/**
 * The supervisor's control endpoint for the CLI: HTTP over a unix socket in
 * the lab's state folder, so the CLI reaches it from the host whatever
 * network namespace the supervisor runs in.
 */
export type Handler = (body: unknown, params: string[]) => Promise<unknown> | unknown;

export interface Route {
  method: 'GET' | 'POST';
  /** Path with `:param` segments. */
  path: string;
  handler: Handler;
}

const MAX_BODY = 32 << 20;

export function startControlServer(socketPath: string, routes: Route[]): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const reply = (code: number, value: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://lab');
      const match = routes
        .filter((r) => r.method === req.method)
        .map((r) => ({ r, params: matchPath(r.path, url.pathname) }))
        .find((m) => m.params);
      if (!match?.params) return reply(404, { error: { code: 'AMBIT_ERR_LAB_STATE', message: `no route ${req.method} ${url.pathname}` } });
      let body: unknown;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      } catch {
        return reply(400, { error: { code: 'AMBIT_ERR_LAB_STATE', message: 'request body is not JSON' } });
      }
      Promise.resolve()
        .then(() => match.r.handler(body, match.params!))
        .then(
          (value) => reply(200, value ?? {}),
          (err: unknown) => {
            const e = err instanceof AmbitError ? err : undefined;
            reply(e ? 400 : 500, { error: { code: e?.code ?? 'internal', message: err instanceof Error ? err.message : String(err) } });
          },
        );
    });
  });
  if (existsSync(socketPath)) unlinkSync(socketPath);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve(server));
  });
}

function matchPath(pattern: string, path: string): string[] | undefined {
  const p = pattern.split('/');
  const s = path.split('/');
  if (p.length !== s.length) return undefined;
  const params: string[] = [];
  for (let i = 0; i < p.length; i++) {
    if (p[i]!.startsWith(':')) params.push(decodeURIComponent(s[i]!));
    else if (p[i] !== s[i]) return undefined;
  }
  return params;
}

/** The CLI side: one request to the supervisor. */
export function controlRequest<T>(socketPath: string, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, headers: { 'content-type': 'application/json' }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let value: unknown;
        try {
          value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return reject(new AmbitError('AMBIT_ERR_LAB_STATE', `the lab supervisor answered ${path} with garbage`));
        }
        // Failures are told by the status code; their body is an error envelope.
        if ((res.statusCode ?? 500) >= 400) {
          const e = (value as { error?: { code?: string; message?: string } }).error ?? {};
          const code = e.code && e.code in ErrorCodes ? (e.code as ErrorCode) : 'AMBIT_ERR_LAB_STATE';
          return reject(new AmbitError(code, e.message ?? `the lab supervisor answered ${path} with ${res.statusCode}`));
        }
        resolve(value as T);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from the lab supervisor within ${timeoutMs} ms`)));
    req.on('error', (err) =>
      reject(new AmbitError('AMBIT_ERR_LAB_STATE', `the lab is not up (cannot reach ${socketPath}: ${err.message}); run 'ambit lab up'`)),
    );
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
