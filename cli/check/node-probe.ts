import { existsSync, statfsSync } from 'node:fs';
import { hostname, release } from 'node:os';
import koffi, { type LibraryHandle } from 'koffi';

/**
 * What the node-local checks read from the machine they run on, behind one
 * interface so each check is tested against a fake machine.
 */
export interface NodeProbe {
  hostname(): string;
  /** `uname -r`. */
  kernelRelease(): string;
  exists(path: string): boolean;
  /** statfs(2) f_type of the filesystem at `path`, or undefined if the path does not exist. */
  fsType(path: string): number | undefined;
  /** The kernel's BPF, through libbpf; a string says why it cannot be asked. */
  bpf(): BpfProbe | string;
}

/**
 * libbpf's feature probes (libbpf >= 0.7): each loads a trivial program or
 * creates a tiny map of the type and reports whether the kernel took it.
 * Results: 1 supported, 0 not supported, negative errno when the probe itself
 * could not run (EPERM without CAP_BPF, say).
 */
export interface BpfProbe {
  progType(type: number): number;
  mapType(type: number): number;
  /** Creates (and closes) a one-entry array map: the agent's first act on a node. 0 or -errno. */
  createMap(): number;
}

export const realNodeProbe: NodeProbe = {
  hostname: () => hostname(),
  kernelRelease: () => release(),
  exists: (path) => existsSync(path),
  fsType: (path) => (existsSync(path) ? statfsSync(path).type : undefined),
  bpf: () => libbpfProbe(),
};

let probe: BpfProbe | string | undefined;

/**
 * Bound here rather than in node-agent/bpf/libbpf.ts: the agent never probes,
 * it loads its objects and reports what the kernel refused; only the check
 * asks the kernel before anything is installed.
 */
function libbpfProbe(): BpfProbe | string {
  if (probe !== undefined) return probe;
  let lib: LibraryHandle;
  try {
    lib = koffi.load('libbpf.so.1');
  } catch (err) {
    return (probe = `libbpf.so.1 cannot be loaded (${err instanceof Error ? err.message : String(err)})`);
  }
  try {
    const progType = lib.func('int libbpf_probe_bpf_prog_type(int prog_type, const void *opts)') as (t: number, o: null) => number;
    const mapType = lib.func('int libbpf_probe_bpf_map_type(int map_type, const void *opts)') as (t: number, o: null) => number;
    const mapCreate = lib.func(
      'int bpf_map_create(int map_type, const char *name, uint32_t key_size, uint32_t value_size, uint32_t max_entries, const void *opts)',
    ) as (t: number, name: string, k: number, v: number, n: number, o: null) => number;
    const close = koffi.load('libc.so.6').func('int close(int fd)') as (fd: number) => number;
    probe = {
      progType: (t) => progType(t, null),
      mapType: (t) => mapType(t, null),
      createMap: () => {
        const fd = mapCreate(BPF_MAP_TYPE.ARRAY, 'ambit_check', 4, 4, 1, null);
        if (fd < 0) return fd;
        close(fd);
        return 0;
      },
    };
  } catch (err) {
    // libbpf older than 0.7 has no probe functions: the agent's objects need 1.x anyway.
    probe = `libbpf.so.1 lacks the feature probes of libbpf >= 0.7 (${err instanceof Error ? err.message : String(err)})`;
  }
  return probe;
}

/** enum bpf_prog_type values (linux/bpf.h UAPI: append-only, never renumbered). */
export const BPF_PROG_TYPE = { SOCK_OPS: 13, SK_SKB: 14, CGROUP_SOCK_ADDR: 18 } as const;
/** enum bpf_map_type values (linux/bpf.h UAPI). */
export const BPF_MAP_TYPE = { HASH: 1, ARRAY: 2, LRU_HASH: 9, SOCKHASH: 18, SK_STORAGE: 24 } as const;

