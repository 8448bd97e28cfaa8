/**
 * The same-node fast path: once the agent has authorized a connection
 * between two pods of its node, the kernel carries its bytes from one of the
 * agent's sockets to the other (a sockmap with an sk_skb verdict program,
 * bpf/fastpath.c) instead of the agent copying them through user space. The
 * agent still owns both sockets, so policy, half-close, resets, metrics and
 * the access log work as before. Where the kernel refuses, for the node or
 * for one connection, the same call splices in user space and says so.
 */
import type { Duplex } from 'node:stream';
import net from 'node:net';
import { splice, type SpliceResult } from '../../lib/hbone/index.js';
import type { Logger } from '../../lib/log.js';
import { realTimers, type Timers } from '../../lib/xds/timers.js';
import { FAST_MODE } from '../bpf/abi.js';
import { attachFastPath } from './attach.js';
import { join } from './join.js';
import { FastMaps } from './maps.js';
import { StaleFlowSweeper } from './sweep.js';

/** Joins the two sockets of a same-node connection. */
export interface FastPath {
  /**
   * Carries bytes both ways until both sockets have closed; the result is
   * lib/hbone/splice.ts's (`a` -> `b` is `streamToSocket`), whichever path
   * carried them.
   */
  splice(a: Duplex, b: Duplex): Promise<SpliceResult>;
  /** What /config_dump shows. */
  status(): FastPathStatus;
  /** Stops its timers and closes its map descriptors; joined connections end as their sockets do. */
  close(): void;
}

export interface FastPathStatus {
  /** Where this node's same-node bytes go: the kernel, or user space for the reason given. */
  path: 'kernel' | 'userspace';
  reason?: string;
  /** Connections carried in the kernel now, and since start. */
  open: number;
  joined: number;
  /** Connections the kernel refused one by one, by reason (they were spliced in user space). */
  fellBack: Record<string, number>;
  /** Bytes the kernel moved, bytes it handed up to the agent, and how often a direction switched. */
  kernel?: { redirectedBytes: string; passedBytes: string; toAgent: string; toKernel: string; broken: string; sockets: number };
}

export interface FastPathOptions {
  /** AMBIT_FAST_PATH: false splices everything in user space. */
  enabled: boolean;
  objectDir: string;
  pinDir: string;
  log: Logger;
  timers?: Timers;
  /** How often stale flow records (of an agent that died) are looked for. */
  sweepEveryMs?: number;
  /** How often connections the kernel declared broken are looked for. */
  watchEveryMs?: number;
}

const SWEEP_EVERY_MS = 60_000;
const WATCH_EVERY_MS = 1_000;

/** The agent's fast path: loads and attaches the program, then joins connections; falls back to user space if the kernel refuses. */
export function startFastPath(o: FastPathOptions): FastPath {
  if (!o.enabled) return userSpace(o.log, 'turned off (AMBIT_FAST_PATH=false)');
  try {
    attachFastPath(o);
  } catch (err) {
    return userSpace(o.log, (err as Error).message);
  }
  return openFastPath(o, { sweep: true });
}

/**
 * The fast path of one more thread of the agent: the maps a started fast path
 * pinned, opened by path (descriptors are per process, but a worker thread
 * cannot be handed another's koffi bindings).
 */
export function openFastPath(o: Omit<FastPathOptions, 'enabled' | 'objectDir'>, opts: { sweep: boolean } = { sweep: false }): FastPath {
  let maps: FastMaps;
  try {
    maps = FastMaps.open(o.pinDir);
  } catch (err) {
    return userSpace(o.log, (err as Error).message);
  }
  o.log.info({ pinDir: o.pinDir }, 'same-node fast path on: connections between pods of this node are carried by the kernel (sockmap)');
  return new KernelFastPath(maps, o, opts.sweep);
}

/**
 * The node's view: the kernel's counters (one set of maps for the node) with
 * the connections every thread joined, open and fell back on, summed.
 */
export function combineStatus(node: FastPathStatus, threads: readonly FastPathStatus[]): FastPathStatus {
  const fellBack: Record<string, number> = { ...node.fellBack };
  for (const t of threads) for (const [reason, n] of Object.entries(t.fellBack)) fellBack[reason] = (fellBack[reason] ?? 0) + n;
  return {
    ...node,
    open: threads.reduce((n, t) => n + t.open, node.open),
    joined: threads.reduce((n, t) => n + t.joined, node.joined),
    fellBack,
  };
}

/** No fast path: same-node connections are spliced in user space, and the reason is logged once. */
export function userSpace(log: Logger, reason: string): FastPath {
  log.warn({ code: 'AMBIT_ERR_FASTPATH', reason }, 'same-node fast path unavailable: same-node connections are spliced in user space');
  return {
    splice: (a, b) => splice(a, b),
    status: () => ({ path: 'userspace', reason, open: 0, joined: 0, fellBack: {} }),
    close: () => {},
  };
}

interface Live {
  cookies: [bigint, bigint];
  abort(reason: string): void;
}

class KernelFastPath implements FastPath {
  private readonly live = new Set<Live>();
  private joined = 0;
  private readonly fellBack: Record<string, number> = {};
  private readonly timers: Timers;
  private readonly sweeper: StaleFlowSweeper | undefined;
  private sweepTimer: unknown;
  private watchTimer: unknown;
  private brokenSeen: bigint;
  private closed = false;

  constructor(
    private readonly maps: FastMaps,
    private readonly o: Omit<FastPathOptions, 'enabled' | 'objectDir'>,
    sweep: boolean,
  ) {
    this.timers = o.timers ?? realTimers;
    this.brokenSeen = maps.stat('fast_broken');
    this.sweeper = sweep ? new StaleFlowSweeper(maps) : undefined;
    this.scheduleSweep();
    this.scheduleWatch();
  }

  async splice(a: Duplex, b: Duplex): Promise<SpliceResult> {
    if (this.closed || !(a instanceof net.Socket) || !(b instanceof net.Socket)) return splice(a, b);
    const j = await join(a, b, this.maps);
    if (!j.ok) {
      if (!(j.reason in this.fellBack)) this.o.log.warn({ code: 'AMBIT_ERR_FASTPATH', reason: j.reason }, 'the kernel did not take a same-node connection: splicing it in user space (logged once per reason)');
      this.fellBack[j.reason] = (this.fellBack[j.reason] ?? 0) + 1;
      return j.result;
    }
    this.joined++;
    const live: Live = { cookies: j.cookies, abort: j.abort };
    this.live.add(live);
    try {
      return await j.result;
    } finally {
      this.live.delete(live);
    }
  }

  status(): FastPathStatus {
    const s = (name: Parameters<FastMaps['stat']>[0]) => String(this.maps.stat(name));
    return {
      path: 'kernel',
      open: this.live.size,
      joined: this.joined,
      fellBack: { ...this.fellBack },
      kernel: {
        redirectedBytes: s('fast_redirected_bytes'),
        passedBytes: s('fast_passed_bytes'),
        toAgent: s('fast_to_agent'),
        toKernel: s('fast_to_kernel'),
        broken: s('fast_broken'),
        sockets: this.maps.peerEntries(),
      },
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timers.clearTimeout(this.sweepTimer);
    this.timers.clearTimeout(this.watchTimer);
    this.maps.close();
  }

  private scheduleSweep(): void {
    if (!this.sweeper || this.closed) return;
    this.sweepTimer = this.timers.setTimeout(() => {
      const n = this.sweeper!.sweep();
      if (n) this.o.log.info({ records: n }, 'deleted fast path records of connections that are gone (an agent died with them open)');
      this.scheduleSweep();
    }, this.o.sweepEveryMs ?? SWEEP_EVERY_MS);
  }

  /**
   * The verdict declares a connection broken (and drops its bytes) when
   * bytes pile up where nothing bounds them: its peer has stopped reading
   * and it keeps sending. It cannot reset a socket, so the agent does,
   * looking at the counter once a second and at its connections when it moved.
   */
  private scheduleWatch(): void {
    if (this.closed) return;
    this.watchTimer = this.timers.setTimeout(() => {
      const broken = this.maps.stat('fast_broken');
      if (broken !== this.brokenSeen) {
        this.brokenSeen = broken;
        for (const live of this.live) {
          if (live.cookies.some((c) => this.maps.flow(c)?.mode === FAST_MODE.broken)) {
            this.o.log.warn({ code: 'AMBIT_ERR_FASTPATH' }, 'a same-node connection kept sending while its peer read nothing: reset');
            live.abort('the fast path bound was exceeded: the peer read nothing while the other side kept sending');
          }
        }
      }
      this.scheduleWatch();
    }, this.o.watchEveryMs ?? WATCH_EVERY_MS);
  }
}
