import { isIPv4, isIPv6 } from 'node:net';

/** Address grammar for policy fields (ipBlocks, source.ip conditions). Pure: node:net only parses here. */

/** An IPv4/IPv6 address or CIDR; returns why not, or undefined. */
export function ipOrCidrProblem(s: string): string | undefined {
  const slash = s.indexOf('/');
  const addr = slash === -1 ? s : s.slice(0, slash);
  const v4 = isIPv4(addr);
  if (!v4 && !isIPv6(addr)) return `must be an IP address or CIDR like "10.0.0.0/16" (got "${s}")`;
  if (slash === -1) return undefined;
  const bits = s.slice(slash + 1);
  const max = v4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `prefix length must be 0..${max} (got "${s}")`;
  return undefined;
}

/** Dotted-quad IPv4 to a 32-bit unsigned integer, or undefined. */
export function ipv4ToInt(s: string): number | undefined {
  if (!isIPv4(s)) return undefined;
  return s.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
