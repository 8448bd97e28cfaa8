import type { HeaderModifier, PathModifier, RequestRedirect } from '../../lib/xds/index.js';

/** Headers as the proxy forwards them: lower-case names. */
export type HeaderMap = Record<string, string | string[] | undefined>;

/** Gateway API header modifier: `set` replaces, `add` appends (a second value), `remove` drops. */
export function modifyHeaders(headers: HeaderMap, m: HeaderModifier): void {
  for (const h of m.set) headers[h.name.toLowerCase()] = h.value;
  for (const h of m.add) {
    const k = h.name.toLowerCase();
    const had = headers[k];
    headers[k] = had === undefined ? h.value : Array.isArray(had) ? [...had, h.value] : [had, h.value];
  }
  for (const name of m.remove) delete headers[name.toLowerCase()];
}

/**
 * A path modifier applied to `path` (no query). ReplacePrefixMatch swaps the
 * matched prefix for the value on segment boundaries: prefix `/foo`, value
 * `/bar`: `/foo/x` -> `/bar/x`; value `/`: `/foo/x` -> `/x`, `/foo` -> `/`.
 */
export function modifyPath(m: PathModifier, path: string, matchedPrefix: string | undefined): string {
  if (m.type === 'REPLACE_FULL_PATH') return m.value;
  const prefix = matchedPrefix === '/' ? '' : (matchedPrefix ?? '');
  const rest = path.slice(prefix.length);
  const value = m.value.endsWith('/') && (rest.startsWith('/') || rest === '') ? m.value.slice(0, -1) : m.value;
  const out = value + rest;
  return out === '' ? '/' : out.startsWith('/') ? out : `/${out}`;
}

/** What a redirect keeps of the request when the filter leaves a part unset. */
export interface RedirectBase {
  scheme: 'http' | 'https';
  /** The request's host, without a port. */
  host: string;
  /** The port the client addressed (the Service port in a mesh). */
  port: number;
  path: string;
  /** The raw query with its `?`, or ''. */
  query: string;
}

const DEFAULT_PORT = { http: 80, https: 443 } as const;

/**
 * The Location of a RequestRedirect (Gateway API): unset parts come from the
 * request; with no port given, a changed scheme means its well-known port and
 * otherwise the port the client addressed; a well-known port for the scheme
 * is left out of the URL.
 */
export function redirectLocation(r: RequestRedirect, base: RedirectBase, matchedPrefix: string | undefined): string {
  const scheme = (r.scheme || base.scheme) as 'http' | 'https';
  const host = r.hostname || base.host;
  const port = r.port || (r.scheme ? DEFAULT_PORT[scheme] : base.port);
  const path = r.path ? modifyPath(r.path, base.path, matchedPrefix) : base.path;
  const authority = port === DEFAULT_PORT[scheme] ? host : `${host}:${port}`;
  return `${scheme}://${authority}${path}${base.query}`;
}
