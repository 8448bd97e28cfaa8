import { join } from 'node:path';
import { AmbitError, fail, ok, type Result } from '../../lib/errors.js';
import { decodeFastFlow, encodeFastFlow, encodeU32, encodeU64, FAST_MAP_NAMES, LAYOUT, STATS, type FastFlow, type StatName } from '../bpf/abi.js';
import { libbpf, type LibBpf } from '../bpf/libbpf.js';
import { errnoName, openPinnedMaps } from '../bpf/loader.js';

/** A socket as the fast path's maps know it. */
export interface FastSocket {
  fd: number;
  cookie: bigint;
}

/** Bounds every walk over a map: the largest max_entries in bpf/lib/fastpath.h. */
const MAX_ENTRIES = 131072;

/**
 * The fast path's pinned maps (bpf/lib/fastpath.h) as one thread of the
 * agent uses them. Map descriptors belong to the process, but each thread
 * opens its own from the pins, so a worker thread needs nothing from the main
 * one but the pin folder.
 */
export class FastMaps {
  private closed = false;

  private constructor(
    private readonly bpf: LibBpf,
    private readonly fds: Record<(typeof FAST_MAP_NAMES)[number] | 'ambit_stats', number>,
  ) {}

  /** Opens the maps a loaded fast path pinned in `pinDir`; throws if they are not there. */
  static open(pinDir: string): FastMaps {
    const bpf = libbpf();
    return new FastMaps(bpf, openPinnedMaps(bpf, pinDir, [...FAST_MAP_NAMES, 'ambit_stats'] as const));
  }

  /**
   * Joins two sockets in the kernel: a flow record for each (bytes go up to
   * the agent until the verdict sees it has nothing pending), then each into
   * ambit_fast_peer under the other's cookie. On failure no flow record is
   * left, so whatever part of the pair joined hands its bytes to the agent's
   * reads, and the caller splices in user space.
   */
  join(a: FastSocket, b: FastSocket): Result<void, string> {
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const rc = Math.min(
        this.bpf.mapUpdate(this.fds.ambit_fast_flow, encodeU64(x.cookie), encodeFastFlow(y.cookie), 0n),
        this.bpf.mapUpdate(this.fds.ambit_fast_fwd, encodeU64(x.cookie), encodeU64(0n), 0n),
      );
      if (rc < 0) {
        this.forget([a.cookie, b.cookie]);
        return fail(`ambit_fast_flow: ${errnoName(-rc)}`);
      }
    }
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const rc = this.bpf.mapUpdate(this.fds.ambit_fast_peer, encodeU64(x.cookie), encodeU64(BigInt(y.fd)), 0n);
      if (rc < 0) {
        this.forget([a.cookie, b.cookie]);
        return fail(`ambit_fast_peer: ${errnoName(-rc)}`);
      }
    }
    return ok(undefined);
  }

  flow(cookie: bigint): FastFlow | undefined {
    const value = Buffer.alloc(LAYOUT.ambit_fast_flow.size);
    return this.bpf.mapLookup(this.fds.ambit_fast_flow, encodeU64(cookie), value) === 0 ? decodeFastFlow(value) : undefined;
  }

  /** Tells the verdict how many of a socket's passed-up bytes the agent has put into the peer. */
  setForwarded(cookie: bigint, bytes: bigint): void {
    const rc = this.bpf.mapUpdate(this.fds.ambit_fast_fwd, encodeU64(cookie), encodeU64(bytes), 0n);
    if (rc < 0) throw new AmbitError('AMBIT_ERR_BPF_MAP', `update on ambit_fast_fwd failed (${errnoName(-rc)})`);
  }

  /** Drops the records of sockets that are gone (ambit_fast_peer forgets closed sockets by itself). */
  forget(cookies: bigint[]): void {
    for (const cookie of cookies) {
      this.bpf.mapDelete(this.fds.ambit_fast_flow, encodeU64(cookie));
      this.bpf.mapDelete(this.fds.ambit_fast_fwd, encodeU64(cookie));
    }
  }

  /** Whether ambit_fast_peer holds an entry under this cookie, i.e. whether the other socket of its pair is open. */
  hasPeer(cookie: bigint): boolean {
    return this.bpf.mapLookup(this.fds.ambit_fast_peer, encodeU64(cookie), Buffer.alloc(8)) === 0;
  }

  /** Every cookie with a flow or forwarded record. */
  recordedCookies(): bigint[] {
    const cookies = new Set<bigint>();
    for (const fd of [this.fds.ambit_fast_flow, this.fds.ambit_fast_fwd]) {
      let key: Buffer | null = null;
      const next = Buffer.alloc(8);
      for (let i = 0; i < MAX_ENTRIES && this.bpf.mapGetNextKey(fd, key, next) === 0; i++) {
        cookies.add(next.readBigUInt64LE());
        key = Buffer.from(next);
      }
    }
    return [...cookies];
  }

  /** Entries of ambit_fast_peer, for tests and /config_dump (bounded by its max_entries). */
  peerEntries(): number {
    let n = 0;
    let key: Buffer | null = null;
    const next = Buffer.alloc(8);
    while (n < MAX_ENTRIES && this.bpf.mapGetNextKey(this.fds.ambit_fast_peer, key, next) === 0) {
      n++;
      key = Buffer.from(next);
    }
    return n;
  }

  stat(name: StatName): bigint {
    const value = Buffer.alloc(8);
    return this.bpf.mapLookup(this.fds.ambit_stats, encodeU32(STATS.indexOf(name)), value) === 0 ? value.readBigUInt64LE() : 0n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of Object.values(this.fds)) this.bpf.close(fd);
  }
}

/** The pinned link that attaches the verdict program to ambit_fast_peer. */
export const fastLinkPath = (pinDir: string) => join(pinDir, 'link_fastpath');
