import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { availableParallelism } from 'node:os';
import { parseDuration } from '../lib/crds/duration.js';
import { resolve } from 'node:path';
import { AmbitError } from '../lib/errors.js';
import { detectPodCgroupRoot } from './enrollment/cgroups.js';
import { LINK_ENV, loadControllerLinkConfig, type ControllerLinkConfig } from '../lib/xds/link-config.js';

/**
 * The agent's configuration: every setting named once here, read from the
 * environment once at start, validated and frozen.
 */
export interface AgentConfig extends ControllerLinkConfig {
  /** This node's name, as in the Node object and pods' spec.nodeName. */
  nodeName: string;
  /** The cgroup-v2 folder all of this node's pods live below (the programs attach here). */
  podCgroupRoot: string;
  /** How podCgroupRoot was chosen (set, or detected from the kubelet's layout), for the start-up line. */
  podCgroupSource: string;
  /** bpffs folder this agent pins its maps and links in. */
  bpfPinDir: string;
  bpfObjectDir: string;
  /** The address redirected connections are sent to (an address of this node that pods route to). */
  redirectIp: string;
  outboundPort: number;
  /** Address the admin server (15020) listens on. */
  adminHost: string;
  /** A file that exists while the agent is ready, for an exec readiness probe (admin/ready-file.ts); undefined: none. */
  readyFile: string | undefined;
  adminPort: number;
  dnsPort: number;
  /** Detach the programs on shutdown (false keeps them for the next agent to re-adopt). */
  detachOnExit: boolean;
  /** This node's address on the node network: HBONE (15008) listens here. */
  nodeIp: string;
  hbonePort: number;
  inboundPort: number;
  /** Install the inbound plaintext capture (STRICT/PERMISSIVE) for local meshed pods. */
  inboundCapture: boolean;
  /**
   * Take the mesh config from this file (YAML or JSON, the push's resources)
   * instead of the controller's stream; certificates still come from the controller.
   */
  localConfigFile: string | undefined;
  /** Data-path worker threads. */
  workers: number;
  /** V8 young generation per worker (MiB): three semi-spaces (WORKER_SEMI_SPACE_MB). */
  workerYoungGenerationMb: number;
  /** On SIGTERM, how long to wait for a successor to listen before letting the ports go. */
  handoverWaitMs: number;
  /** Then how long open connections may take to finish before they are closed. */
  drainMs: number;
  /** How long a new tunnel retries a peer agent that refuses connections (restarting after a crash). */
  hboneRetryMs: number;
  /** Carry same-node connections in the kernel (sockmap) rather than splicing them in user space. */
  fastPath: boolean;
}

export const ENV = {
  nodeName: 'AMBIT_NODE_NAME',
  podCgroupRoot: 'AMBIT_POD_CGROUP_ROOT',
  cgroupMount: 'AMBIT_CGROUP_MOUNT',
  podUid: 'AMBIT_POD_UID',
  bpfPinDir: 'AMBIT_BPF_PIN_DIR',
  bpfObjectDir: 'AMBIT_BPF_OBJECT_DIR',
  redirectIp: 'AMBIT_REDIRECT_IP',
  adminHost: 'AMBIT_ADMIN_HOST',
  readyFile: 'AMBIT_READY_FILE',
  detachOnExit: 'AMBIT_DETACH_ON_EXIT',
  ...LINK_ENV,
  nodeIp: 'AMBIT_NODE_IP',
  inboundCapture: 'AMBIT_INBOUND_CAPTURE',
  localConfigFile: 'AMBIT_LOCAL_CONFIG',
  workers: 'AMBIT_WORKERS',
  handoverWait: 'AMBIT_HANDOVER_WAIT',
  drain: 'AMBIT_DRAIN_PERIOD',
  hboneRetry: 'AMBIT_HBONE_RETRY',
  fastPath: 'AMBIT_FAST_PATH',
} as const;

/**
 * How many data-path workers: AMBIT_WORKERS as a number, or `auto` for the
 * CPU limit of the agent's cgroup (cpu.max, rounded up) or else the cores it
 * may run on; unset, 2, as ztunnel.
 */
export function workerCount(v: string | undefined, cpuLimit: () => number | undefined = cgroupCpuLimit): number {
  if (v === undefined || v === '') return 2;
  if (v === 'auto') return Math.max(1, Math.min(cpuLimit() ?? availableParallelism(), availableParallelism()));
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= 64)) throw new AmbitError('AMBIT_ERR_CONFIG', `${ENV.workers} must be a number 1..64 or "auto", got ${JSON.stringify(v)}`);
  return n;
}

function cgroupCpuLimit(): number | undefined {
  try {
    const cg = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3);
    if (cg === undefined) return undefined;
    const [quota, period] = readFileSync(`/sys/fs/cgroup${cg}/cpu.max`, 'utf8').trim().split(/\s+/);
    return quota === 'max' || !quota || !period ? undefined : Math.ceil(Number(quota) / Number(period));
  } catch {
    return undefined;
  }
}

/**
 * Semi-space of each data-path worker's V8 young generation, MiB (Node 20's
 * default is 16). A tunnel allocates a fresh Buffer for every socket read, and
 * with the default young generation enough of them survive a scavenge to drive
 * a full mark-compact of the whole heap every ~100 ms under bulk load.
 * Measured in the lab (iperf3, one stream, both agents, 2 vCPU, single-threaded
 * agent): agent CPU per GB moved 5.2-5.4 s at 16 MiB, 5.0-5.3 at 32, 3.9-4.4 at
 * 64, 4.0-4.6 at 128; the mark-compacts go away (`--trace-gc`). The space is
 * reserved, not committed, until the traffic needs it.
 */
const WORKER_SEMI_SPACE_MB = 64;

export const PORTS = { outbound: 15001, inbound: 15006, hbone: 15008, admin: 15020 } as const;

/**
 * The pod root as set (AMBIT_POD_CGROUP_ROOT), or else detected below the
 * node's cgroup-v2 mount from the kubelet's layout (cgroupfs or systemd
 * driver), guided by the agent's own pod UID.
 */
function podCgroupRoot(env: NodeJS.ProcessEnv): Pick<AgentConfig, 'podCgroupRoot' | 'podCgroupSource'> {
  const set = env[ENV.podCgroupRoot];
  if (set) return { podCgroupRoot: set, podCgroupSource: `set by ${ENV.podCgroupRoot}` };
  const mount = env[ENV.cgroupMount] || '/sys/fs/cgroup';
  const found = detectPodCgroupRoot(mount, env[ENV.podUid] || undefined);
  return { podCgroupRoot: found.path, podCgroupSource: `detected: the kubelet's ${found.driver} driver layout, from ${found.how}` };
}

export function loadAgentConfig(env: NodeJS.ProcessEnv, repoRoot: string): Readonly<AgentConfig> {
  const required = (key: string): string => {
    const v = env[key];
    if (!v) throw new AmbitError('AMBIT_ERR_CONFIG', `${key} is not set`);
    return v;
  };
  const ip = (key: string, fallback?: string): string => {
    const v = env[key] ?? fallback;
    if (!v || !isIPv4(v)) throw new AmbitError('AMBIT_ERR_CONFIG', `${key} must be an IPv4 address, got ${JSON.stringify(v)}`);
    return v;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = env[key] || String(fallback);
    if (v !== 'true' && v !== 'false') throw new AmbitError('AMBIT_ERR_CONFIG', `${key} must be true or false, got ${JSON.stringify(v)}`);
    return v === 'true';
  };
  const duration = (key: string, fallback: string): number => {
    const ms = parseDuration(env[key] || fallback);
    if (ms === undefined) throw new AmbitError('AMBIT_ERR_CONFIG', `${key} must be a duration like "10s" or "500ms", got ${JSON.stringify(env[key])}`);
    return ms;
  };
  return Object.freeze({
    ...loadControllerLinkConfig(env),
    nodeName: required(ENV.nodeName),
    ...podCgroupRoot(env),
    bpfPinDir: env[ENV.bpfPinDir] ?? '/sys/fs/bpf/ambit',
    bpfObjectDir: env[ENV.bpfObjectDir] ?? resolve(repoRoot, 'bpf', 'build'),
    redirectIp: ip(ENV.redirectIp),
    outboundPort: PORTS.outbound,
    adminHost: ip(ENV.adminHost, '0.0.0.0'),
    adminPort: PORTS.admin,
    readyFile: env[ENV.readyFile] || undefined,
    dnsPort: 53,
    detachOnExit: env[ENV.detachOnExit] === 'true',
    nodeIp: ip(ENV.nodeIp),
    hbonePort: PORTS.hbone,
    inboundPort: PORTS.inbound,
    inboundCapture: env[ENV.inboundCapture] !== 'false',
    localConfigFile: env[ENV.localConfigFile] || undefined,
    workers: workerCount(env[ENV.workers]),
    workerYoungGenerationMb: 3 * WORKER_SEMI_SPACE_MB,
    handoverWaitMs: duration(ENV.handoverWait, '10s'),
    drainMs: duration(ENV.drain, '20s'),
    hboneRetryMs: duration(ENV.hboneRetry, '5s'),
    fastPath: bool(ENV.fastPath, true),
  });
}
