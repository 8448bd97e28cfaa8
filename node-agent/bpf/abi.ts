/**
 * TypeScript mirror of bpf/lib/abi.h. Field order, sizes and offsets must
 * match the C structs byte for byte; node-agent/bpf/abi.test.ts checks them against
 * the BTF of the built objects. Addresses and ports are kept in network byte
 * order in the maps, exactly as the kernel hands them to the programs.
 */
import { isIPv4 } from 'node:net';
import { AmbitError } from '../../lib/errors.js';

export const MAP_NAMES = ['ambit_meshed', 'ambit_config', 'ambit_cookie_dst', 'ambit_orig_dst', 'ambit_sock_dst', 'ambit_stats'] as const;
export type MapName = (typeof MAP_NAMES)[number];

/** The same-node fast path's maps (bpf/lib/fastpath.h): only fastpath.bpf.o declares them. */
export const FAST_MAP_NAMES = ['ambit_fast_peer', 'ambit_fast_flow', 'ambit_fast_fwd'] as const;

export const ENROLL_MESHED = 1;

/** ambit_fast_flow.mode (AMBIT_FAST_* in abi.h). */
export const FAST_MODE = { kernel: 0, agent: 1, broken: 2 } as const;

/** Byte layout of each mirrored struct: total size and field offsets. */
export const LAYOUT = {
  ambit_config: { size: 8, fields: { agent_ip4: 0, agent_port: 4, dns_port: 6 } },
  ambit_sock_key: { size: 8, fields: { ip4: 0, port: 4, pad: 6 } },
  ambit_orig_dst: { size: 16, fields: { ip4: 0, port: 4, pad: 6, cgroup_id: 8 } },
  ambit_fast_flow: { size: 40, fields: { peer: 0, redirected: 8, passed: 16, mark_redirected: 24, mark_seq: 32, mode: 36 } },
} as const;

/** enum ambit_stat, in order; never renumbered. */
export const STATS = [
  'connect_seen',
  'redirected',
  'skip_loopback',
  'skip_dns',
  'skip_agent',
  'orig_dst_recorded',
  'cookie_missing',
  'peer_restored',
  'fast_redirected_bytes',
  'fast_passed_bytes',
  'fast_to_agent',
  'fast_to_kernel',
  'fast_no_flow',
  'fast_broken',
] as const;
export type StatName = (typeof STATS)[number];

export interface RedirectConfig {
  agentIp: string;
  agentPort: number;
  dnsPort: number;
}

export interface OriginalDst {
  ip: string;
  port: number;
  cgroupId: bigint;
}

function ip4ToBytes(ip: string, buf: Buffer, offset: number): void {
  if (!isIPv4(ip)) throw new AmbitError('AMBIT_ERR_CONFIG', `not an IPv4 address: ${JSON.stringify(ip)}`);
  ip.split('.').forEach((octet, i) => buf.writeUInt8(Number(octet), offset + i));
}

function bytesToIp4(buf: Buffer, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

export function encodeConfig(c: RedirectConfig): Buffer {
  const l = LAYOUT.ambit_config;
  const buf = Buffer.alloc(l.size);
  ip4ToBytes(c.agentIp, buf, l.fields.agent_ip4);
  buf.writeUInt16BE(c.agentPort, l.fields.agent_port);
  buf.writeUInt16BE(c.dnsPort, l.fields.dns_port);
  return buf;
}

export function decodeConfig(buf: Buffer): RedirectConfig {
  const l = LAYOUT.ambit_config;
  return {
    agentIp: bytesToIp4(buf, l.fields.agent_ip4),
    agentPort: buf.readUInt16BE(l.fields.agent_port),
    dnsPort: buf.readUInt16BE(l.fields.dns_port),
  };
}

export function encodeSockKey(ip: string, port: number): Buffer {
  const l = LAYOUT.ambit_sock_key;
  const buf = Buffer.alloc(l.size);
  ip4ToBytes(ip, buf, l.fields.ip4);
  buf.writeUInt16BE(port, l.fields.port);
  return buf;
}

export function decodeOrigDst(buf: Buffer): OriginalDst {
  const l = LAYOUT.ambit_orig_dst;
  return {
    ip: bytesToIp4(buf, l.fields.ip4),
    port: buf.readUInt16BE(l.fields.port),
    cgroupId: buf.readBigUInt64LE(l.fields.cgroup_id),
  };
}

/** A fast-path flow record, as far as the agent reads it. */
export interface FastFlow {
  peer: bigint;
  redirected: bigint;
  passed: bigint;
  mode: number;
}

/** A new flow record: its bytes go up to the agent until the kernel sees the agent has caught up. */
export function encodeFastFlow(peer: bigint): Buffer {
  const l = LAYOUT.ambit_fast_flow;
  const buf = Buffer.alloc(l.size);
  buf.writeBigUInt64LE(peer, l.fields.peer);
  buf.writeUInt32LE(FAST_MODE.agent, l.fields.mode);
  return buf;
}

export function decodeFastFlow(buf: Buffer): FastFlow {
  const l = LAYOUT.ambit_fast_flow;
  return {
    peer: buf.readBigUInt64LE(l.fields.peer),
    redirected: buf.readBigUInt64LE(l.fields.redirected),
    passed: buf.readBigUInt64LE(l.fields.passed),
    mode: buf.readUInt32LE(l.fields.mode),
  };
}

export function encodeU64(v: bigint): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(v);
  return buf;
}

export function encodeU32(v: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32LE(v);
  return buf;
}
