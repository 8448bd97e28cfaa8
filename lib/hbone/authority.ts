/** `ip:port` authorities of HBONE CONNECT requests (`[v6]:port` for IPv6). */
import net from 'node:net';
import { AmbitError, fail, ok, type Result } from '../errors.js';

/** A parsed destination or peer address. */
export interface HostPort {
  /** The IP address, without brackets. */
  readonly host: string;
  /** TCP port, 1-65535. */
  readonly port: number;
  /** 4 or 6. */
  readonly family: 4 | 6;
}

const bad = (input: string, why: string): Result<never> =>
  fail(new AmbitError('AMBIT_ERR_HBONE_PROTOCOL', `invalid authority ${JSON.stringify(input.slice(0, 80))}: ${why}`));

/** Parses `1.2.3.4:80` or `[fd00::1]:80`. Host names are refused: HBONE addresses are IPs. */
export function parseAuthority(input: string | undefined): Result<HostPort> {
  if (typeof input !== 'string' || input.length === 0) return bad(String(input), 'missing');
  if (input.length > 64) return bad(input, 'too long');
  let host: string;
  let portText: string;
  if (input.startsWith('[')) {
    const end = input.indexOf(']');
    if (end < 0 || input[end + 1] !== ':') return bad(input, 'expected [ipv6]:port');
    host = input.slice(1, end);
    portText = input.slice(end + 2);
    if (net.isIPv6(host) === false) return bad(input, 'not an IPv6 address');
  } else {
    const colon = input.lastIndexOf(':');
    if (colon < 0) return bad(input, 'expected ip:port');
    host = input.slice(0, colon);
    portText = input.slice(colon + 1);
    if (!net.isIPv4(host)) return bad(input, net.isIPv6(host) ? 'IPv6 addresses need brackets' : 'not an IPv4 address');
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return bad(input, 'port is not a number');
  const port = Number(portText);
  if (port < 1 || port > 65535) return bad(input, 'port out of range');
  return ok(Object.freeze({ host, port, family: net.isIPv6(host) ? 6 : 4 }));
}

/** The canonical `ip:port` / `[v6]:port` form. */
export function formatAuthority(host: string, port: number): string {
  const h = host.startsWith('::ffff:') && net.isIPv4(host.slice(7)) ? host.slice(7) : host;
  return net.isIPv6(h) ? `[${h}]:${port}` : `${h}:${port}`;
}
