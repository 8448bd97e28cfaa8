import { timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { logger } from '../../lib/log.js';
import { parseBody, readBody } from './body.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import { openApiGroupVersion, openApiIndex } from './openapi.js';
import { patchTypeOf } from './patch.js';
import { apiVersionOf } from './resources.js';
import { parseDiscoveryPath, parseResourcePath, parseTokenPath, pathSegments, type ResourceRoute, type TokenRoute } from './routes.js';
import { ApiError, isApiError } from './status.js';
import type { ObjectStore } from './store.js';
import { toTable, wantsTable, type IncludeObject } from './table.js';
import { authorize, storeRbacSource, type RbacSource, type RequestAttributes, type User } from './rbac.js';
import { resourceAttributes, tokenAttributes } from './request-info.js';
import { TokenRegistry } from './tokens.js';
import type { KubeObject } from './types.js';
import { serveWatch, type WatchStreamConfig } from './watch-stream.js';

const log = logger('lab', 'apiserver');

export interface ApiServerOptions {
  store: ObjectStore;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** If set, every request except health checks and /version needs `Authorization: Bearer <token>`. */
  token?: string;
  /**
   * Serve HTTPS with this certificate. kubectl (client-go) never sends a
   * bearer token over plain HTTP, so a token-protected server that kubectl
   * must reach needs TLS; @kubernetes/client-node sends it either way.
   */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** BOOKMARK interval for watches that allow them. Default 30 s. */
  bookmarkIntervalMs?: number;
  /** Watch length when the client sends no timeoutSeconds. Default 30 min. */
  watchTimeoutMs?: number;
  /** Largest accepted request body. Default 3 MiB, the kube-apiserver limit. */
  maxBodyBytes?: number;
  /** Clock for Table ages and service account token lifetimes; injectable for tests. */
  now?: () => Date;
  /** The token registry, shared by every listener over the same store (a token minted through one is valid on all). */
  tokens?: TokenRegistry;
  /**
   * Authentication and RBAC, as kube-apiserver: the admin token (the lab's own tooling) may do
   * anything; a service-account token minted by `tokens` for the API server's audience is
   * authorized by the stored Roles, ClusterRoles and bindings, and refused with 403 otherwise;
   * any other request gets 401. Replaces `token`.
   */
  auth?: { adminToken?: string; audit?: (entry: AuditEntry) => void };
}

/** One request of a service-account user, decided: what `lab up --chart` logs per component. */
export interface AuditEntry {
  time: string;
  user: string;
  /** Absent for non-resource requests (discovery, /version, /openapi). */
  request?: RequestAttributes;
  path: string;
  allowed: boolean;
  /** The binding and role that allowed it, or the 403 message. */
  reason: string;
}

export interface ApiServer {
  /** `http://host:port` (or https), for a kubeconfig's `server`. */
  url: string;
  port: number;
  /** Ends every watch cleanly, then stops the server. The store is left as it is. */
  close(): Promise<void>;
}

const UNAUTHENTICATED = new Set(['/healthz', '/readyz', '/livez', '/version']);
const JSON_TYPE = { 'Content-Type': 'application/json' };

interface ActiveWatch {
  end: () => void;
  res: ServerResponse;
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { ...JSON_TYPE, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function flag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new ApiError('BadRequest', `query parameter ${name}=${JSON.stringify(v)} must be a non-negative integer`);
  return Number(v);
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const want = Buffer.from(`Bearer ${token}`);
  const got = Buffer.from(header);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Serves the Kubernetes REST API over `store` until `close()`. */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { store } = opts;
  const host = opts.host ?? '127.0.0.1';
  const maxBodyBytes = opts.maxBodyBytes ?? 3 * 1024 * 1024;
  const now = opts.now ?? (() => new Date());
  const watchCfg: WatchStreamConfig = {
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 30_000,
    defaultTimeoutMs: opts.watchTimeoutMs ?? 30 * 60_000,
    maxBufferedBytes: 16 * 1024 * 1024,
  };
  const watches = new Set<ActiveWatch>();
  const tokens = opts.tokens ?? new TokenRegistry({ store, now });
  const rbac: RbacSource = storeRbacSource((plural, namespace) => store.list(plural, namespace === undefined ? {} : { namespace }).items);
  let address = '';

  /** Who is calling: undefined for the admin (the lab's tooling), else a service account; throws 401. */
  const identify = (req: IncomingMessage): User | undefined => {
    const auth = opts.auth;
    if (!auth) {
      if (opts.token !== undefined && !authorized(req, opts.token)) throw new ApiError('Unauthorized', 'Unauthorized: a valid bearer token is required');
      return undefined;
    }
    if (auth.adminToken !== undefined && authorized(req, auth.adminToken)) return undefined;
    const header = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const result = bearer ? tokens.authenticate(bearer) : undefined;
    if (!result?.ok) {
      log.debug({ url: req.url, err: result?.error ?? 'no bearer token' }, 'request not authenticated');
      throw new ApiError('Unauthorized', 'Unauthorized');
    }
    return { username: result.user.username, groups: result.user.groups };
  };

  /** RBAC for a service account's resource request; every decision goes to the audit hook. */
  const check = (user: User | undefined, request: RequestAttributes, path: string): void => {
    if (!user) return;
    const d = authorize(rbac, user, request);
    opts.auth?.audit?.({ time: now().toISOString(), user: user.username, request, path, allowed: d.allowed, reason: d.allowed ? d.by : d.reason });
    if (!d.allowed) {
      log.info({ user: user.username, ...request }, 'request forbidden by RBAC');
      throw new ApiError('Forbidden', d.reason, { ...(request.name ? { name: request.name } : {}), group: request.apiGroup, kind: request.resource });
    }
  };

  const list = (route: ResourceRoute, q: URLSearchParams, accept: string | undefined, res: ServerResponse): void => {
    const r = route.resource;
    const result = store.list(r, {
      namespace: route.namespace,
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector: q.get('fieldSelector') ?? undefined,
      limit: intParam(q, 'limit'),
      continue: q.get('continue') ?? undefined,
    });
    const table = wantsTable(accept);
    if (table) {
      sendJson(res, 200, toTable(r, result.items, { resourceVersion: result.resourceVersion, include: includeObject(q), apiVersion: table, now: now(), continue: result.continue }));
      return;
    }
    const metadata: Record<string, unknown> = { resourceVersion: result.resourceVersion };
    if (result.continue) metadata.continue = result.continue;
    if (result.remainingItemCount !== undefined) metadata.remainingItemCount = result.remainingItemCount;
    sendJson(res, 200, { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata, items: result.items });
  };

  const watch = (route: ResourceRoute, q: URLSearchParams, accept: string | undefined, res: ServerResponse): void => {
    let fieldSelector = q.get('fieldSelector') ?? '';
    // The legacy /watch/.../{name} form watches one object.
    if (route.name !== undefined) fieldSelector = [fieldSelector, `metadata.name=${route.name}`].filter(Boolean).join(',');
    const active: ActiveWatch = { end: () => {}, res };
    watches.add(active);
    try {
      active.end = serveWatch(
        store,
        route.resource,
        {
          namespace: route.namespace,
          labelSelector: q.get('labelSelector') ?? undefined,
          fieldSelector,
          resourceVersion: q.get('resourceVersion') ?? undefined,
          timeoutSeconds: intParam(q, 'timeoutSeconds'),
          allowWatchBookmarks: flag(q, 'allowWatchBookmarks'),
          render: tableRenderer(route, q, accept),
        },
        res,
        watchCfg,
        () => watches.delete(active),
      );
    } catch (err) {
      watches.delete(active);
      throw err;
    }
  };

  /** For `kubectl get -w`: each event carries a one-row Table, as kube-apiserver sends. */
  const tableRenderer = (route: ResourceRoute, q: URLSearchParams, accept: string | undefined) => {
    const table = wantsTable(accept);
    if (!table) return undefined;
    const include = includeObject(q);
    return (o: Readonly<KubeObject>) => toTable(route.resource, [o], { resourceVersion: o.metadata.resourceVersion ?? '', include, apiVersion: table, now: now() });
  };

  const one = (obj: KubeObject, route: ResourceRoute, q: URLSearchParams, accept: string | undefined, res: ServerResponse, code = 200): void => {
    const table = wantsTable(accept);
    if (table && code === 200) {
      sendJson(res, 200, toTable(route.resource, [obj], { resourceVersion: obj.metadata.resourceVersion ?? '', include: includeObject(q), apiVersion: table, now: now() }));
    } else sendJson(res, code, obj);
  };

  const body = async (req: IncomingMessage): Promise<unknown> => parseBody(await readBody(req, maxBodyBytes), req.headers['content-type']);

  /** TokenRequest and TokenReview: POST only, answered with 201 and the computed object, as kube-apiserver does. */
  const serveToken = async (route: TokenRoute, req: IncomingMessage, res: ServerResponse, q: URLSearchParams): Promise<void> => {
    if (req.method !== 'POST') throw new ApiError('MethodNotAllowed', `the server does not allow method ${req.method} on ${req.url}`);
    if (q.has('dryRun')) throw new ApiError('BadRequest', 'the lab API server does not support dryRun; the request was not applied');
    const request = await body(req);
    sendJson(res, 201, route.kind === 'TokenReview' ? tokens.review(request) : tokens.request(route.namespace, route.serviceAccount, request));
  };

  const serveResource = async (route: ResourceRoute, req: IncomingMessage, res: ServerResponse, q: URLSearchParams): Promise<void> => {
    const r = route.resource;
    const method = req.method ?? 'GET';
    const accept = req.headers.accept;
    const notAllowed = () => new ApiError('MethodNotAllowed', `the server does not allow method ${method} on ${req.url}`);
    if (q.has('dryRun')) throw new ApiError('BadRequest', 'the lab API server does not support dryRun; the request was not applied');
    if (route.watchPath || (route.name === undefined && flag(q, 'watch'))) {
      if (method !== 'GET') throw notAllowed();
      return watch(route, q, accept, res);
    }
    // A namespaced type's objects are addressed through their namespace; /api/v1/pods/x does not exist.
    const clusterWideNamespaced = r.namespaced && route.namespace === undefined;
    if (route.name === undefined) {
      if (method === 'GET') return list(route, q, accept, res);
      if (method === 'POST' && !clusterWideNamespaced) return sendJson(res, 201, store.create(r, await body(req), { namespace: route.namespace }));
      if (method === 'DELETE' && !clusterWideNamespaced) {
        const items = store.deleteCollection(r, { namespace: route.namespace, labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined });
        return sendJson(res, 200, { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata: { resourceVersion: store.resourceVersion }, items });
      }
      throw notAllowed();
    }
    if (clusterWideNamespaced) throw new ApiError('NotFound', 'the server could not find the requested resource');
    const { namespace, name, subresource } = route;
    const writeOpts = subresource ? { subresource } : {};
    switch (method) {
      case 'GET':
        return one(store.get(r, namespace, name), route, q, accept, res);
      case 'PUT':
        return sendJson(res, 200, store.replace(r, await body(req), { namespace, name, ...writeOpts }));
      case 'PATCH': {
        const type = patchTypeOf(req.headers['content-type']);
        if (!type) {
          throw new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format (${req.headers['content-type'] ?? 'none'}); accepted: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml`);
        }
        return sendJson(res, 200, store.patch(r, namespace, name, await body(req), type, writeOpts));
      }
      case 'DELETE': {
        if (subresource) throw notAllowed();
        const raw = await readBody(req, maxBodyBytes);
        const options = raw.length > 0 ? (parseBody(raw, req.headers['content-type']) as { preconditions?: { uid?: string; resourceVersion?: string }; propagationPolicy?: string }) : {};
        const propagationPolicy = q.get('propagationPolicy') ?? options.propagationPolicy;
        return sendJson(res, 200, store.delete(r, namespace, name, { preconditions: options.preconditions ?? {}, orphanDependents: propagationPolicy === 'Orphan' }));
      }
      default:
        throw notAllowed();
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://lab');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/healthz' || path === '/readyz' || path === '/livez') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    const user = UNAUTHENTICATED.has(path) ? undefined : identify(req);
    // Discovery, /version and /openapi: every authenticated user may read them (the
    // system:discovery and system:public-info-viewer ClusterRoles of every cluster).
    const publicRead = (): void => {
      if (user) opts.auth?.audit?.({ time: now().toISOString(), user: user.username, path, allowed: true, reason: 'discovery (system:discovery)' });
    };
    if (path === '/version') return sendJson(res, 200, versionInfo());
    if (path === '/openapi/v3' || path.startsWith('/openapi/v3/')) {
      publicRead();
      const doc = path === '/openapi/v3' ? openApiIndex() : openApiGroupVersion(path.slice('/openapi/v3/'.length));
      if (doc === undefined) throw new ApiError('NotFound', 'the server could not find the requested resource');
      return sendJson(res, 200, doc);
    }
    const segs = pathSegments(path);
    if (!segs) throw new ApiError('BadRequest', `the request path ${JSON.stringify(url.pathname)} is not valid percent-encoding`);
    const disco = req.method === 'GET' ? parseDiscoveryPath(segs) : undefined;
    if (disco) {
      publicRead();
      const doc =
        disco.kind === 'api' ? apiVersions(address) : disco.kind === 'apis' ? apiGroupList() : disco.kind === 'group' ? apiGroup(disco.group) : apiResourceList(disco.group, disco.version);
      if (doc === undefined) throw new ApiError('NotFound', 'the server could not find the requested resource');
      return sendJson(res, 200, doc);
    }
    const tokenRoute = parseTokenPath(segs);
    if (tokenRoute) {
      check(user, tokenAttributes(tokenRoute), path);
      return serveToken(tokenRoute, req, res, url.searchParams);
    }
    const route = parseResourcePath(segs);
    if (!route) throw new ApiError('NotFound', `the server could not find the requested resource (${req.method} ${url.pathname})`);
    check(user, resourceAttributes(req.method ?? 'GET', route, url.searchParams), path);
    await serveResource(route, req, res, url.searchParams);
  };

  const onRequest: RequestListener = (req, res) => {
    handle(req, res).then(
      () => log.debug({ method: req.method, url: req.url, status: res.statusCode }, 'request'),
      (err: unknown) => {
        const apiErr = isApiError(err) ? err : new ApiError('InternalError', `internal error: ${(err as Error)?.message ?? String(err)}`);
        if (!isApiError(err)) log.error({ err, method: req.method, url: req.url }, 'request handler failed');
        else log.debug({ method: req.method, url: req.url, status: apiErr.httpStatus, reason: apiErr.reason }, 'request refused');
        if (res.headersSent) {
          res.destroy();
          return;
        }
        // The unread rest of an oversized body would be parsed as the next request.
        if (apiErr.reason === 'RequestEntityTooLarge') res.setHeader('Connection', 'close');
        sendJson(res, apiErr.httpStatus, apiErr.toStatus());
      },
    );
  };
  const server = opts.tls ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest) : createServer(onRequest);
  server.on('clientError', (err, socket) => {
    log.debug({ err }, 'malformed HTTP request');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });

  server.listen(opts.port ?? 0, host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  address = `${hostPart}:${port}`;
  const scheme = opts.tls ? 'https' : 'http';
  log.info({ url: `${scheme}://${address}` }, 'lab API server listening');

  let closed: Promise<void> | undefined;
  return {
    url: `${scheme}://${address}`,
    port,
    close: () => {
      closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // End watch streams first so clients see a clean end of stream, not a reset.
        const ending = [...watches].map(async (w) => {
          w.end();
          if (!w.res.writableFinished) await Promise.race([once(w.res, 'finish').catch(() => {}), once(w.res, 'close').catch(() => {}), delay(1000)]);
        });
        await Promise.all(ending);
        server.closeAllConnections();
        await stopped;
        log.info({ url: `${scheme}://${address}` }, 'lab API server closed');
      })();
      return closed;
    },
  };
}

function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  if (v === null || v === '') return 'Metadata';
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v;
  throw new ApiError('BadRequest', `includeObject must be None, Metadata or Object, got ${JSON.stringify(v)}`);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
