import { isIP } from 'node:net';
import { DNS_LABEL, DNS_SUBDOMAIN, namespacedName, UsageError } from '../options.js';
import type { Destination, ExplainQuestion } from './types.js';

const HTTP_METHOD = /^[A-Z]+$/;

/** `:PORT` at the end of a destination, if any. */
function splitPort(s: string): [string, number | undefined] {
  const m = /^(.*):(\d{1,5})$/.exec(s);
  if (!m) return [s, undefined];
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new UsageError(`port ${m[2]} is out of range`);
  return [m[1]!, port];
}

/**
 * DST as a client would name it: `NS/NAME` (a Service, else a pod), `svc/NS/NAME`,
 * `pod/NS/NAME`, a Service's DNS name (`NAME.NS`, `NAME.NS.svc`, `NAME.NS.svc.cluster.local`)
 * or an address; each with an optional `:PORT`.
 */
export function parseDestination(arg: string): { destination: Destination; port: number | undefined } {
  const [what, port] = splitPort(arg);
  const kinded = /^(svc|service|pod)\/(.+)$/.exec(what);
  if (kinded) return { destination: { kind: kinded[1] === 'pod' ? 'pod' : 'service', ...namespacedName(kinded[2], 'DST') }, port };
  if (what.includes('/')) return { destination: { kind: 'either', ...namespacedName(what, 'DST') }, port };
  if (isIP(what) === 4) return { destination: { kind: 'address', ip: what }, port };
  const dns = /^([^.]+)\.([^.]+)(\.svc(\.cluster\.local)?)?$/.exec(what);
  if (dns && DNS_SUBDOMAIN.test(dns[1]!) && DNS_LABEL.test(dns[2]!)) return { destination: { kind: 'service', namespace: dns[2]!, name: dns[1]! }, port };
  throw new UsageError(`DST ${JSON.stringify(arg)}: expected NAMESPACE/NAME, svc/NAMESPACE/NAME, pod/NAMESPACE/NAME, NAME.NAMESPACE[.svc.cluster.local] or an IPv4 address, with an optional :PORT`);
}

export function parseQuestion(positionals: string[], flags: { method?: string | undefined; path?: string | undefined; header?: string[] | undefined }): ExplainQuestion {
  const [src, dst, ...rest] = positionals;
  if (!src || !dst || rest.length) throw new UsageError(`expected SRC DST[:PORT], got ${JSON.stringify(positionals.join(' '))}`);
  const source = namespacedName(src.replace(/^pod\//, ''), 'SRC (a pod)');
  const { destination, port } = parseDestination(dst);
  const headers: Record<string, string> = {};
  for (const h of flags.header ?? []) {
    const eq = h.indexOf('=');
    if (eq <= 0) throw new UsageError(`--header ${JSON.stringify(h)}: expected NAME=VALUE`);
    headers[h.slice(0, eq).toLowerCase()] = h.slice(eq + 1);
  }
  const method = flags.method?.toUpperCase();
  if (method !== undefined && !HTTP_METHOD.test(method)) throw new UsageError(`--method ${JSON.stringify(flags.method)} is not an HTTP method`);
  if (flags.path !== undefined && !flags.path.startsWith('/')) throw new UsageError(`--path must start with /, got ${JSON.stringify(flags.path)}`);
  const http = method !== undefined || flags.path !== undefined || (flags.header?.length ?? 0) > 0;
  return { source, destination, port, request: http ? { method: method ?? 'GET', path: flags.path ?? '/', headers } : undefined };
}
