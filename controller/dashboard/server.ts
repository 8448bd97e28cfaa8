import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../lib/log.js';
import type { Timers } from '../../lib/xds/timers.js';
import type { MeshModel } from '../model/index.js';
import { forwardRoutePatch, parseWeightChange, weightPatch, type ApiServerTarget, type ForwardResult } from './canary.js';
import { buildGraph, GRAPH_METRICS, type ServiceGraph } from './graph.js';
import { Scraper, type ScrapeTarget } from './scraper.js';
import { findRoute, policies, routes, routeView, serviceDetail, services } from './views.js';

/**
 * The dashboard on the controller's admin port (15014, under `/ui/`): static
 * pages (plain ES modules and CSS from controller/dashboard/ui, no build step,
 * nothing fetched from elsewhere) and a JSON API over what the controller
 * holds, plus the service graph from the proxies' own metrics. Reads need no
 * credentials, like the rest of the admin port; the one write (route
 * weights) is forwarded to the API server as the operator (canary.ts).
 */

/** The proxies' admin port (SPEC "Ports"). */
export const PROXY_ADMIN_PORT = 15020;
/** The rate windows the graph offers, in seconds; the longest bounds what is kept. */
export const WINDOWS_S = [10, 30, 60, 300] as const;
export const DEFAULT_WINDOW_S = 60;

const here = fileURLToPath(import.meta.url);
/** From dist/controller/dashboard/ back to the source tree, or beside the module (as lib/xds/proto.ts finds its files). */
const UI_CANDIDATES = [resolve(here, '../../../../controller/dashboard/ui'), resolve(here, '../ui')];
const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

/** One connected proxy as the config server reports it (controller/xds/agent.ts `status()`). */
export interface ProxyStatus {
  node: string;
  proxy: string;
  peer: string;
  connectedAt: string | null;
  upToDate: boolean;
  types: Record<string, { ackedVersion: string | null; nacked: unknown; lastAckAt: string | null }>;
}

export interface DashboardOptions {
  model: MeshModel;
  /** The proxies holding a config stream now. */
  proxies: () => ProxyStatus[];
  /** The CA's public facts (the trust bundle, the serving certificate), as /debug/ca shows them. */
  ca: () => unknown;
  /** Where writes go, as the operator; undefined leaves the dashboard read-only. */
  apiServer: ApiServerTarget | undefined;
  scrapeIntervalMs: number;
  log: Logger;
  fetch?: typeof fetch;
  now?: () => number;
  timers?: Timers;
  /** Sends the operator's patch (tests replace it). */
  forward?: typeof forwardRoutePatch;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class Dashboard {
  readonly scraper: Scraper;
  private readonly now: () => number;
  private readonly uiDir: string | undefined;
  private dumps: { at: number; value: Promise<unknown[]> } | undefined;

  constructor(private readonly o: DashboardOptions) {
    this.now = o.now ?? Date.now;
    this.uiDir = UI_CANDIDATES.find((d) => existsSync(resolve(d, 'index.html')));
    this.scraper = new Scraper({
      targets: () => this.targets(),
      keep: (name) => GRAPH_METRICS.has(name),
      intervalMs: o.scrapeIntervalMs,
      retainMs: Math.max(...WINDOWS_S) * 1000 + o.scrapeIntervalMs,
      log: o.log,
      ...(o.fetch ? { fetch: o.fetch } : {}),
      now: this.now,
      ...(o.timers ? { timers: o.timers } : {}),
    });
  }

  start(): void {
    this.scraper.start();
  }

  stop(): void {
    this.scraper.stop();
  }

  /**
   * Where each connected proxy's admin port is: a node agent on its node's
   * address, a waypoint on its pod's (SPEC "Ports": 15020); the address the
   * stream came from when the model does not know it yet.
   */
  targets(): ScrapeTarget[] {
    const nodes = this.o.model.resources('Node');
    return this.o.proxies().flatMap((p) => {
      const [kind, a, b, c] = p.proxy.split('/');
      let host: string | undefined;
      if (kind === 'node') host = nodes.get(a ?? '')?.ip;
      else if (kind === 'waypoint') host = this.o.model.waypointPods(a ?? '', b ?? '').find((pod) => pod.metadata?.name === c)?.status?.podIP;
      host ??= peerHost(p.peer);
      if (!host) return [];
      return [{ id: p.proxy, address: host.includes(':') ? `[${host}]:${PROXY_ADMIN_PORT}` : `${host}:${PROXY_ADMIN_PORT}` }];
    });
  }

  graph(windowS: number): ServiceGraph {
    const waypointIdentities = new Set(this.o.model.waypointObjects().map((w) => `/ns/${w.metadata?.namespace}/sa/${w.metadata?.name}`));
    return buildGraph(this.scraper.window.rates(windowS * 1000, this.now()), windowS, {
      isWaypointPrincipal: (p) => {
        const i = p.indexOf('/ns/');
        return i >= 0 && waypointIdentities.has(p.slice(i));
      },
    });
  }

  /** Every proxy's `/config_dump`, fetched at most every 10 s (they are large; the certificates page is what reads them). */
  private configDumps(): Promise<unknown[]> {
    if (this.dumps && this.now() - this.dumps.at < 10_000) return this.dumps.value;
    const f = this.o.fetch ?? globalThis.fetch;
    const value = Promise.all(
      this.targets().map(async (t) => {
        try {
          const res = await f(`http://${t.address}/config_dump`, { signal: AbortSignal.timeout(3000) });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          const d = (await res.json()) as { certificates?: unknown[]; trustBundle?: unknown };
          return { proxy: t.id, certificates: d.certificates ?? [], trustBundle: d.trustBundle ?? null, error: null };
        } catch (err) {
          return { proxy: t.id, certificates: [], trustBundle: null, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    this.dumps = { at: this.now(), value };
    return value;
  }

  proxies(): unknown {
    const health = new Map(this.scraper.targetHealth().map((h) => [h.id, h]));
    return this.o.proxies().map((p) => ({
      proxy: p.proxy,
      kind: p.proxy.startsWith('waypoint/') ? 'waypoint' : 'node-agent',
      node: p.node,
      connectedAt: p.connectedAt,
      upToDate: p.upToDate,
      versions: Object.fromEntries(Object.entries(p.types).map(([t, s]) => [t, s.ackedVersion])),
      nacked: Object.entries(p.types).filter(([, s]) => s.nacked).map(([t, s]) => ({ type: t, ...(s.nacked as object) })),
      metrics: health.get(p.proxy) ?? null,
    }));
  }

  async certificates(): Promise<unknown> {
    const now = this.now();
    const dumps = (await this.configDumps()) as { proxy: string; certificates: { identity: string; notAfter?: string; rotateAt?: string; lastError?: string }[]; error: string | null }[];
    return {
      ca: this.o.ca(),
      proxies: dumps.map((d) => ({
        proxy: d.proxy,
        error: d.error,
        certificates: d.certificates.map((c) => ({ ...c, expiresInSeconds: c.notAfter ? Math.round((Date.parse(c.notAfter) - now) / 1000) : null })),
      })),
    };
  }

  /** The `/ui/` subtree of the admin server. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.route(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) this.o.log.error({ err: err instanceof Error ? (err.stack ?? err.message) : String(err), path: req.url }, 'dashboard handler failed');
      sendJson(res, status, { error: err instanceof Error ? err.message : String(err) });
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname.slice('/ui'.length);
    if (!path.startsWith('/api/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'the pages are read with GET');
      return this.serveStatic(path, res);
    }
    const parts = path.slice('/api/'.length).split('/').map(decodeURIComponent);
    if (req.method === 'PATCH' && parts[0] === 'routes' && parts.length === 4) return this.shiftWeights(req, res, parts[1]!, parts[2]!, parts[3]!);
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} is not served here; the one write is PATCH /ui/api/routes/HTTPRoute/<namespace>/<name>`);
    sendJson(res, 200, await this.read(parts, url.searchParams));
  }

  private async read(parts: string[], q: URLSearchParams): Promise<unknown> {
    const { model } = this.o;
    switch (parts[0]) {
      case 'overview':
        return {
          generation: model.generation,
          counts: model.counts(),
          proxies: this.o.proxies().length,
          writes: this.o.apiServer ? 'with the operator token' : 'disabled: the controller has no API server address',
          windows: WINDOWS_S,
          defaultWindow: DEFAULT_WINDOW_S,
        };
      case 'graph':
        return this.graph(this.windowOf(q));
      case 'services':
        if (parts.length === 1) return services(model);
        if (parts.length === 3) {
          const detail = serviceDetail(model, parts[1]!, parts[2]!);
          if (!detail) throw new HttpError(404, `Service ${parts[1]}/${parts[2]} is not known to the controller`);
          const id = `service:${parts[1]}/${parts[2]}`;
          const g = this.graph(this.windowOf(q));
          return { ...(detail as object), traffic: g.edges.filter((e) => e.source === id || e.target === id) };
        }
        break;
      case 'routes':
        if (parts.length === 1) return routes(model);
        break;
      case 'policies':
        return policies(model);
      case 'proxies':
        return this.proxies();
      case 'certificates':
        return this.certificates();
    }
    throw new HttpError(404, `no such dashboard API: /ui/api/${parts.join('/')}`);
  }

  private windowOf(q: URLSearchParams): number {
    const w = Number(q.get('window') ?? DEFAULT_WINDOW_S);
    if (!(WINDOWS_S as readonly number[]).includes(w)) throw new HttpError(400, `window must be one of ${WINDOWS_S.join(', ')} (seconds)`);
    return w;
  }

  private async shiftWeights(req: IncomingMessage, res: ServerResponse, kind: string, namespace: string, name: string): Promise<void> {
    const auth = req.headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
    if (!token) throw new HttpError(401, 'read-only: no operator token. Paste a Kubernetes bearer token (one allowed to patch httproutes) to change weights; the controller sends the change as you.');
    if (!this.o.apiServer) throw new HttpError(503, 'the controller has no API server address to send the change to');
    if (kind !== 'HTTPRoute') throw new HttpError(400, 'weights can be shifted on HTTPRoutes only');
    const obj = findRoute(this.o.model, kind, namespace, name);
    if (!obj) throw new HttpError(404, `HTTPRoute ${namespace}/${name} is not known to the controller`);
    const change = parseWeightChange(await readJson(req), routeView(kind, obj, []));
    if (!change.ok) throw new HttpError(400, change.error);
    const forward = this.o.forward ?? forwardRoutePatch;
    let answer: ForwardResult;
    try {
      answer = await forward(this.o.apiServer, token, namespace, name, weightPatch(change.value));
    } catch (err) {
      throw new HttpError(502, `the API server could not be reached: ${err instanceof Error ? err.message : String(err)}`);
    }
    const applied = answer.status >= 200 && answer.status < 300;
    this.o.log.info({ route: `${namespace}/${name}`, rule: change.value.rule, weights: change.value.weights, status: answer.status }, applied ? 'dashboard: route weights changed as the operator' : 'dashboard: the API server refused the operator’s weight change');
    const message = (answer.body as { message?: unknown })?.message;
    sendJson(res, applied ? 200 : answer.status, applied ? { ok: true, route: routeView(kind, answer.body as never, []) } : { error: `the API server answered ${answer.status}: ${typeof message === 'string' ? message : JSON.stringify(answer.body)}` });
  }

  private serveStatic(path: string, res: ServerResponse): void {
    const file = path === '/' || path === '' ? 'index.html' : path.slice(1);
    // Flat folder: a name, never a path (no way out of it).
    if (!this.uiDir || !/^[a-z0-9-]+\.(html|js|css|svg)$/.test(file) || !existsSync(resolve(this.uiDir, file))) throw new HttpError(404, `no such page: /ui/${file}`);
    const body = readFileSync(resolve(this.uiDir, file));
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'" });
    res.end(body);
  }
}

function peerHost(peer: string): string | undefined {
  const m = /^(?:ipv[46]:)?\[?([^\]]+?)\]?:\d+$/.exec(peer);
  return m?.[1];
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v === Infinity ? 'Infinity' : v));
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}

async function readJson(req: IncomingMessage, max = 64 * 1024): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new HttpError(413, 'the body is too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body must be JSON');
  }
}
