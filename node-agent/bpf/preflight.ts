import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { AmbitError } from '../../lib/errors.js';

/** Filesystem magic numbers from linux/magic.h (`ambit check --pre` tests the same mounts). */
export const BPF_FS_MAGIC = 0xcafe4a11;
export const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Capability bits from linux/capability.h. */
const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;
const CAP_BPF = 39n;

function effectiveCapabilities(): bigint {
  const status = readFileSync('/proc/self/status', 'utf8');
  const line = status.split('\n').find((l) => l.startsWith('CapEff:'));
  return line ? BigInt(`0x${line.split(/\s+/)[1]}`) : 0n;
}

const has = (caps: bigint, bit: bigint) => (caps & (1n << bit)) !== 0n;

/**
 * Checks everything loading the redirect programs needs, so a missing piece
 * is one error naming it rather than a bare EPERM from deep inside libbpf.
 */
export function checkRedirectPrerequisites(opts: { pinDir: string; cgroupPath: string; objectPaths: string[] }): void {
  const caps = effectiveCapabilities();
  if (!(has(caps, CAP_BPF) || has(caps, CAP_SYS_ADMIN)) || !has(caps, CAP_NET_ADMIN)) {
    throw new AmbitError(
      'AMBIT_ERR_PRIVILEGE',
      'the node agent needs CAP_BPF (or CAP_SYS_ADMIN) and CAP_NET_ADMIN to load eBPF: run it as root or privileged',
    );
  }
  const bpffsRoot = bpffsMountOf(opts.pinDir);
  if (!bpffsRoot) {
    throw new AmbitError(
      'AMBIT_ERR_PRIVILEGE',
      `no bpf filesystem above ${opts.pinDir}: mount one with 'mount -t bpf bpf /sys/fs/bpf'`,
    );
  }
  if (!existsSync(opts.cgroupPath) || statfsSync(opts.cgroupPath).type !== CGROUP2_SUPER_MAGIC) {
    throw new AmbitError(
      'AMBIT_ERR_PRIVILEGE',
      `${opts.cgroupPath} is not a cgroup-v2 directory: the redirect programs attach to a cgroup-v2 hierarchy (mount -t cgroup2 none <dir>)`,
    );
  }
  for (const p of opts.objectPaths) {
    if (!existsSync(p)) {
      throw new AmbitError('AMBIT_ERR_BPF_LOAD', `eBPF object ${p} is missing: build it with 'make -C bpf'`);
    }
  }
}

/** The nearest existing ancestor of `path` if it lies on a bpffs. */
function bpffsMountOf(path: string): string | undefined {
  let p = path;
  for (let i = 0; i < 64; i++) {
    if (existsSync(p)) return statfsSync(p).type === BPF_FS_MAGIC ? p : undefined;
    const parent = p.replace(/\/[^/]+\/?$/, '') || '/';
    if (parent === p) return undefined;
    p = parent;
  }
  return undefined;
}
