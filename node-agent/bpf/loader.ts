import { closeSync, constants, existsSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AmbitError } from '../../lib/errors.js';
import { logger } from '../../lib/log.js';
import {
  ENROLL_MESHED,
  LAYOUT,
  MAP_NAMES,
  STATS,
  decodeOrigDst,
  encodeConfig,
  encodeSockKey,
  encodeU32,
  encodeU64,
  type MapName,
  type OriginalDst,
  type RedirectConfig,
  type StatName,
} from './abi.js';
import { libbpf, type LibBpf } from './libbpf.js';
import { checkRedirectPrerequisites } from './preflight.js';

const log = logger('node-agent', 'bpf');

/** The eBPF programs, one object per attach point (see bpf/README.md). */
const PROGRAMS = [
  { object: 'connect4.bpf.o', program: 'ambit_connect4', link: 'link_connect4' },
  { object: 'sockops.bpf.o', program: 'ambit_sockops', link: 'link_sockops' },
  { object: 'getpeername4.bpf.o', program: 'ambit_getpeername4', link: 'link_getpeername4' },
] as const;

export interface RedirectOptions {
  /** Folder holding the built objects (bpf/build). */
  objectDir: string;
  /** bpffs folder owned by this agent: maps and links are pinned here. */
  pinDir: string;
  /** The cgroup-v2 folder all of this node's pods live below. */
  cgroupPath: string;
  config: RedirectConfig;
}

/**
 * The kernel side of outbound capture, as the agent sees it. One
 * implementation loads real eBPF; tests of the proxy can supply their own.
 */
export interface Redirector {
  /** Redirect the outbound TCP of every task in this cgroup (and below). */
  enroll(cgroupId: bigint): void;
  unenroll(cgroupId: bigint): void;
  enrolled(): bigint[];
  stats(): Record<StatName, bigint>;
  /**
   * Release this process's handles. With `detach`, also remove the pinned
   * links and maps so the programs leave the cgroup; without, they stay
   * attached for the next agent to re-adopt.
   */
  close(opts: { detach: boolean }): void;
}

/** A cgroup-v2 directory's id, as bpf_get_current_cgroup_id() reports it. */
export function cgroupIdOf(path: string): bigint {
  return statSync(path, { bigint: true }).ino;
}

export function loadRedirector(opts: RedirectOptions): Redirector {
  checkRedirectPrerequisites({
    pinDir: opts.pinDir,
    cgroupPath: opts.cgroupPath,
    objectPaths: PROGRAMS.map((p) => join(opts.objectDir, p.object)),
  });
  const bpf = libbpf();
  mkdirSync(opts.pinDir, { recursive: true });
  const cgroupFd = openSync(opts.cgroupPath, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    for (const p of PROGRAMS) attachProgram(bpf, opts, cgroupFd, p);
  } finally {
    closeSync(cgroupFd);
  }
  const fds = openPinnedMaps(bpf, opts.pinDir, MAP_NAMES);
  const rc = bpf.mapUpdate(fds.ambit_config, encodeU32(0), encodeConfig(opts.config), 0n);
  if (rc < 0) throw mapError('ambit_config', 'update', rc);
  log.info({ pinDir: opts.pinDir, cgroup: opts.cgroupPath, ...opts.config }, 'redirect programs attached');
  return new PinnedRedirector(bpf, opts.pinDir, fds);
}

/**
 * Attaches one redirect program to the pod cgroup root through a pinned
 * bpf_link (see loadPinnedProgram for the re-adoption of an existing one).
 */
function attachProgram(
  bpf: LibBpf,
  opts: RedirectOptions,
  cgroupFd: number,
  p: (typeof PROGRAMS)[number],
): void {
  const linkPath = join(opts.pinDir, p.link);
  loadPinnedProgram(bpf, { objectPath: join(opts.objectDir, p.object), pinDir: opts.pinDir, program: p.program, linkPath }, (prog) => {
    const link = bpf.programAttachCgroup(prog, cgroupFd);
    if (!link) {
      throw new AmbitError(
        'AMBIT_ERR_BPF_LOAD',
        `attaching ${p.program} to ${opts.cgroupPath} failed (${errnoName(bpf.errno())}): does the kernel have CONFIG_CGROUP_BPF?`,
      );
    }
    const pin = bpf.linkPin(link, linkPath);
    bpf.linkDestroy(link); // drops our handle; the pin keeps the attachment
    if (pin < 0) throw new AmbitError('AMBIT_ERR_BPF_LOAD', `pinning ${linkPath} failed (${errnoName(-pin)})`);
  });
}

/**
 * Loads one object with its maps pinned in pinDir (reusing pins an earlier
 * agent left), then makes sure its program is attached through the bpf_link
 * pinned at linkPath. An existing link is re-adopted by swapping in the new
 * program atomically, so a restarted agent neither leaks a second attachment
 * nor opens a window without it; otherwise `attach` creates and pins one.
 */
export function loadPinnedProgram(
  bpf: LibBpf,
  o: { objectPath: string; pinDir: string; program: string; linkPath: string },
  attach: (prog: unknown, obj: unknown) => void,
): void {
  const obj = bpf.objectOpenFile(o.objectPath);
  if (!obj) throw new AmbitError('AMBIT_ERR_BPF_LOAD', `cannot open ${o.objectPath}: errno ${bpf.errno()}`);
  const object = o.objectPath.split('/').pop();
  try {
    for (let m = bpf.objectNextMap(obj, null); m; m = bpf.objectNextMap(obj, m)) {
      bpf.mapSetPinPath(m, join(o.pinDir, bpf.mapName(m)));
    }
    const rc = bpf.objectLoad(obj);
    if (rc < 0) {
      throw new AmbitError(
        'AMBIT_ERR_BPF_LOAD',
        `loading ${object} failed (${errnoName(-rc)}); the verifier log is on stderr. ` +
          (rc === -1 || rc === -13 ? 'Is the agent privileged?' : 'A pinned map of an older layout? Remove ' + o.pinDir),
      );
    }
    const prog = bpf.objectFindProgram(obj, o.program);
    if (!prog) throw new AmbitError('AMBIT_ERR_BPF_LOAD', `${object} has no program ${o.program}`);
    if (existsSync(o.linkPath) && readopt(bpf, o.linkPath, prog)) {
      log.info({ link: o.linkPath }, 're-adopted pinned link, program replaced');
      return;
    }
    attach(prog, obj);
  } finally {
    // Closing the object drops our program and map handles; pins and the
    // link keep what must live.
    bpf.objectClose(obj);
  }
}

function readopt(bpf: LibBpf, linkPath: string, prog: unknown): boolean {
  const link = bpf.linkOpen(linkPath);
  if (!link) return false;
  try {
    if (bpf.linkUpdateProgram(link, prog) === 0) return true;
    // The old link cannot take the program (its cgroup is gone, say): drop it.
    bpf.linkUnpin(link);
    return false;
  } finally {
    bpf.linkDestroy(link);
  }
}

/** Opens pinned maps by name; the fds are this process's, for any of its threads. */
export function openPinnedMaps<N extends string>(bpf: LibBpf, pinDir: string, names: readonly N[]): Record<N, number> {
  const fds = {} as Record<N, number>;
  for (const name of names) {
    const fd = bpf.objGet(join(pinDir, name));
    if (fd < 0) throw new AmbitError('AMBIT_ERR_BPF_MAP', `pinned map ${join(pinDir, name)} is missing (${errnoName(-fd)})`);
    fds[name] = fd;
  }
  return fds;
}

class PinnedRedirector implements Redirector {
  private closed = false;

  constructor(
    private readonly bpf: LibBpf,
    private readonly pinDir: string,
    private readonly fds: Record<MapName, number>,
  ) {}

  enroll(cgroupId: bigint): void {
    const rc = this.bpf.mapUpdate(this.fds.ambit_meshed, encodeU64(cgroupId), encodeU32(ENROLL_MESHED), 0n);
    if (rc < 0) throw mapError('ambit_meshed', 'update', rc);
  }

  unenroll(cgroupId: bigint): void {
    const rc = this.bpf.mapDelete(this.fds.ambit_meshed, encodeU64(cgroupId));
    if (rc < 0 && rc !== -2) throw mapError('ambit_meshed', 'delete', rc);
  }

  enrolled(): bigint[] {
    const ids: bigint[] = [];
    let key: Buffer | null = null;
    const next = Buffer.alloc(8);
    // Bounded by the map's max_entries; get_next_key returns -ENOENT at the end.
    for (let i = 0; i < 65536 && this.bpf.mapGetNextKey(this.fds.ambit_meshed, key, next) === 0; i++) {
      ids.push(next.readBigUInt64LE());
      key = Buffer.from(next);
    }
    return ids;
  }

  stats(): Record<StatName, bigint> {
    const out = {} as Record<StatName, bigint>;
    const value = Buffer.alloc(8);
    STATS.forEach((name, i) => {
      out[name] = this.bpf.mapLookup(this.fds.ambit_stats, encodeU32(i), value) === 0 ? value.readBigUInt64LE() : 0n;
    });
    return out;
  }

  close(opts: { detach: boolean }): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of Object.values(this.fds)) this.bpf.close(fd);
    if (opts.detach) detachPinned(this.pinDir);
  }
}

/** Where redirected connections were going: all a data-path worker needs of the pinned maps. */
export interface OriginalDstReader {
  /** The original destination of an accepted redirected connection, consumed on read. */
  take(peerIp: string, peerPort: number): OriginalDst | undefined;
  close(): void;
}

/**
 * Opens the pinned `ambit_orig_dst` map the main thread's loader set up, from
 * any thread (a map descriptor is per process; each worker opens its own).
 */
export function openOriginalDst(pinDir: string): OriginalDstReader {
  const bpf = libbpf();
  const path = join(pinDir, 'ambit_orig_dst');
  const fd = bpf.objGet(path);
  if (fd < 0) throw new AmbitError('AMBIT_ERR_BPF_MAP', `pinned map ${path} is missing (${errnoName(-fd)}); the agent's main thread loads it first`);
  const value = Buffer.alloc(LAYOUT.ambit_orig_dst.size);
  return {
    take: (peerIp, peerPort) => {
      const key = encodeSockKey(peerIp, peerPort);
      if (bpf.mapLookup(fd, key, value) < 0) return undefined;
      bpf.mapDelete(fd, key);
      return decodeOrigDst(value);
    },
    close: () => bpf.close(fd),
  };
}

/**
 * Removes an agent's pinned links and maps. Unpinning the last reference to
 * a link detaches its program from the cgroup. Safe to call when nothing is
 * there (lab down after a crash).
 */
export function detachPinned(pinDir: string): void {
  if (!existsSync(pinDir)) return;
  rmSync(pinDir, { recursive: true, force: true });
  log.info({ pinDir }, 'redirect programs detached');
}

export function mapError(map: string, op: string, rc: number): AmbitError {
  return new AmbitError('AMBIT_ERR_BPF_MAP', `${op} on ${map} failed (${errnoName(-rc)})`);
}

const ERRNO: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  7: 'E2BIG',
  9: 'EBADF',
  13: 'EACCES',
  16: 'EBUSY',
  17: 'EEXIST',
  22: 'EINVAL',
  28: 'ENOSPC',
  95: 'EOPNOTSUPP',
  524: 'ENOTSUPP',
};

export function errnoName(errno: number): string {
  return ERRNO[errno] ?? `errno ${errno}`;
}
