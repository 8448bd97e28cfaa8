import { constants } from 'node:os';
import { BPF_FS_MAGIC, CGROUP2_SUPER_MAGIC } from '../../node-agent/bpf/preflight.js';
import { BPF_MAP_TYPE, BPF_PROG_TYPE, type BpfProbe } from './node-probe.js';
import type { Check, Outcome } from './types.js';

/**
 * Checks of the machine the command runs on (scope `node`): what the node
 * agent needs from the kernel before it can load bpf/. Run them on each node
 * (or one of a uniform pool); from a laptop they describe the laptop.
 */

/** CAP_BPF, BPF links for cgroup programs and the cgroup/getpeername4 hook all arrived in 5.8. */
export const MIN_KERNEL: readonly [number, number] = [5, 8];
/** net.ipv4.tcp_migrate_req (5.14) lets a rolling update of the agent move queued connections. */
export const RECOMMENDED_KERNEL: readonly [number, number] = [5, 14];

export const BPFFS = '/sys/fs/bpf';
export const CGROUP2 = '/sys/fs/cgroup';
export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

const GROUP = 'node';
const atLeast = (v: readonly [number, number], min: readonly [number, number]) => v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);
const dotted = (v: readonly [number, number]) => `${v[0]}.${v[1]}`;

export function parseKernelRelease(release: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

const kernelVersion: Check = {
  id: 'kernel-version',
  group: GROUP,
  scope: 'node',
  run: ({ node }) => {
    const release = node.kernelRelease();
    const v = parseKernelRelease(release);
    if (!v) return { status: 'warn', message: `kernel release ${JSON.stringify(release)} is not MAJOR.MINOR…`, hint: `the agent needs Linux >= ${dotted(MIN_KERNEL)}: check 'uname -r' by hand` };
    if (!atLeast(v, MIN_KERNEL)) {
      return {
        status: 'fail',
        message: `Linux ${release} is older than ${dotted(MIN_KERNEL)}`,
        hint: `upgrade the node's kernel (CAP_BPF, cgroup BPF links and getpeername4 hooks need ${dotted(MIN_KERNEL)}); nodeAgent.sysAdminForOldKernels=true only helps for the capability`,
      };
    }
    if (!atLeast(v, RECOMMENDED_KERNEL)) {
      return { status: 'warn', message: `Linux ${release} works; ${dotted(RECOMMENDED_KERNEL)} is recommended`, hint: `before ${dotted(RECOMMENDED_KERNEL)} (no tcp_migrate_req) a rolling update of the agent resets connections queued on the old agent` };
    }
    return { status: 'pass', message: `Linux ${release} (>= ${dotted(MIN_KERNEL)})` };
  },
};

const btf: Check = {
  id: 'kernel-btf',
  group: GROUP,
  scope: 'node',
  run: ({ node }) =>
    node.exists(VMLINUX_BTF)
      ? { status: 'pass', message: `kernel BTF at ${VMLINUX_BTF}` }
      : {
          status: 'warn',
          message: `no kernel BTF at ${VMLINUX_BTF}`,
          hint: 'the same-node fast path (CO-RE reads) stays off and same-node bytes are spliced in user space; use a kernel built with CONFIG_DEBUG_INFO_BTF=y to enable it',
        },
};

const bpffs: Check = {
  id: 'bpffs',
  group: GROUP,
  scope: 'node',
  run: ({ node }) => {
    const type = node.fsType(BPFFS);
    if (type === BPF_FS_MAGIC) return { status: 'pass', message: `bpffs mounted at ${BPFFS}` };
    return {
      status: 'fail',
      message: type === undefined ? `${BPFFS} does not exist` : `${BPFFS} is not a bpf filesystem (f_type 0x${type.toString(16)})`,
      hint: `mount it (and persist in fstab or a systemd mount unit): mount -t bpf bpf ${BPFFS}; the agent pins its programs there so a restarted agent re-adopts them`,
    };
  },
};

const cgroup2: Check = {
  id: 'cgroup-v2',
  group: GROUP,
  scope: 'node',
  run: ({ node }) => {
    const type = node.fsType(CGROUP2);
    if (type === CGROUP2_SUPER_MAGIC) return { status: 'pass', message: `cgroup v2 (unified) at ${CGROUP2}` };
    const hybrid = node.fsType(`${CGROUP2}/unified`) === CGROUP2_SUPER_MAGIC;
    return {
      status: 'fail',
      message: type === undefined ? `${CGROUP2} does not exist` : hybrid ? `${CGROUP2} is a hybrid v1/v2 hierarchy` : `${CGROUP2} is not cgroup v2 (f_type 0x${type.toString(16)})`,
      hint: 'the agent attaches to the kubelet\'s pod cgroup on the unified hierarchy: boot with systemd.unified_cgroup_hierarchy=1 (and the kubelet with cgroup v2)',
    };
  },
};

/** Program types of bpf/*.c and whether the agent can run without them. */
const PROGRAMS = [
  { type: BPF_PROG_TYPE.CGROUP_SOCK_ADDR, name: 'cgroup/connect4, cgroup/getpeername4 (cgroup_sock_addr)', required: true },
  { type: BPF_PROG_TYPE.SOCK_OPS, name: 'sockops', required: true },
  { type: BPF_PROG_TYPE.SK_SKB, name: 'sk_skb/stream_verdict (fast path)', required: false },
] as const;

/** Map types of bpf/lib/*.h. */
const MAPS = [
  { type: BPF_MAP_TYPE.HASH, name: 'hash', required: true },
  { type: BPF_MAP_TYPE.LRU_HASH, name: 'lru_hash', required: true },
  { type: BPF_MAP_TYPE.SK_STORAGE, name: 'sk_storage', required: true },
  { type: BPF_MAP_TYPE.SOCKHASH, name: 'sockhash (fast path)', required: false },
] as const;

function errnoName(rc: number): string {
  const hit = Object.entries(constants.errno).find(([, n]) => n === -rc);
  return hit ? hit[0] : `errno ${-rc}`;
}

const NEEDS_PRIVILEGE = 'run the check as root (the probes load programs and create maps, as the agent does with CAP_BPF)';

function withBpf(run: (bpf: BpfProbe) => Outcome): Check['run'] {
  return ({ node }) => {
    const bpf = node.bpf();
    if (typeof bpf === 'string') return { status: 'warn', message: `cannot probe the kernel: ${bpf}`, hint: 'install libbpf1 (Debian) or libbpf (Fedora) to probe; the agent image ships its own' };
    return run(bpf);
  };
}

const bpfMap: Check = {
  id: 'bpf-map-create',
  group: GROUP,
  scope: 'node',
  run: withBpf((bpf) => {
    const rc = bpf.createMap();
    if (rc === 0) return { status: 'pass', message: 'a BPF map can be created (bpf_map_create, array)' };
    const perm = rc === -constants.errno.EPERM || rc === -constants.errno.EACCES;
    return perm
      ? { status: 'warn', message: `creating a BPF map was refused (${errnoName(rc)}) for this user`, hint: NEEDS_PRIVILEGE }
      : { status: 'fail', message: `creating a BPF map failed: ${errnoName(rc)}`, hint: 'the kernel refuses BPF maps: check CONFIG_BPF_SYSCALL=y and kernel.unprivileged_bpf_disabled / lockdown settings' };
  }),
};

const bpfFeatures: Check = {
  id: 'bpf-features',
  group: GROUP,
  scope: 'node',
  needs: ['bpf-map-create'],
  run: withBpf((bpf) => {
    const probed = [
      ...PROGRAMS.map((p) => ({ ...p, what: 'program', rc: bpf.progType(p.type) })),
      ...MAPS.map((m) => ({ ...m, what: 'map', rc: bpf.mapType(m.type) })),
    ];
    const unknown = probed.filter((p) => p.rc < 0);
    const missing = probed.filter((p) => p.rc === 0);
    const fatal = missing.filter((p) => p.required);
    if (fatal.length) {
      return {
        status: 'fail',
        message: `the kernel lacks ${fatal.map((p) => `${p.what} type ${p.name}`).join(', ')}`,
        hint: 'the agent cannot redirect traffic on this kernel: use Linux >= 5.8 built with CONFIG_BPF_SYSCALL, CONFIG_CGROUP_BPF and CONFIG_BPF_STREAM_PARSER',
      };
    }
    if (unknown.length) {
      return { status: 'warn', message: `could not probe ${unknown.map((p) => `${p.name} (${errnoName(p.rc)})`).join(', ')}`, hint: NEEDS_PRIVILEGE };
    }
    if (missing.length) {
      return { status: 'warn', message: `no ${missing.map((p) => p.name).join(', ')}: the same-node fast path stays off`, hint: 'same-node traffic is spliced in user space instead; enable CONFIG_BPF_STREAM_PARSER for the fast path' };
    }
    return { status: 'pass', message: `cgroup_sock_addr, sockops, sk_skb programs; hash, lru_hash, sk_storage, sockhash maps` };
  }),
};

export const NODE_CHECKS: readonly Check[] = [kernelVersion, btf, bpffs, cgroup2, bpfMap, bpfFeatures];
