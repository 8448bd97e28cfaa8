import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { normalizePrincipal } from '../identity/spiffe.js';

/** Istio string matching: exact, `*` (anything present), `prefix*` or `*suffix`. */
export function matchesPattern(pattern: string, value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return pattern === value;
}

export const matchesAny = (patterns: readonly string[], value: string | undefined): boolean =>
  patterns.some((p) => matchesPattern(p, value));

/** Principals compare without the `spiffe://` scheme, as Istio writes them. */
export const matchesPrincipal = (patterns: readonly string[], principal: string | undefined): boolean =>
  patterns.some((p) => matchesPattern(normalizePrincipal(p), principal === undefined ? undefined : normalizePrincipal(principal)));

const cidrCache = new Map<string, BlockList>();

/** `10.0.0.0/8`, `10.1.2.3` (a single address), IPv4 or IPv6. */
export function inIpBlocks(blocks: readonly string[], ip: string | undefined): boolean {
  if (!ip) return false;
  const family = isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : undefined;
  if (!family) return false;
  const key = blocks.join(',');
  let list = cidrCache.get(key);
  if (!list) {
    list = new BlockList();
    for (const b of blocks) {
      const [addr = '', bits] = b.split('/');
      const type = isIPv4(addr) ? 'ipv4' : 'ipv6';
      if (bits === undefined) list.addAddress(addr, type);
      else list.addSubnet(addr, Number(bits), type);
    }
    if (cidrCache.size > 1000) cidrCache.clear();
    cidrCache.set(key, list);
  }
  return list.check(ip, family);
}

export const inPorts = (ports: readonly (string | number)[], port: number | undefined): boolean =>
  port !== undefined && ports.some((p) => Number(p) === port);
