import type { Logger } from '../../lib/log.js';
import { toWire } from '../../lib/xds/resources.js';
import { RESOURCE_TYPES, isResourceType, type Ack, type ConfigMessage, type Hello, type ResourceType } from '../../lib/xds/types.js';
import type { ControllerMetrics } from '../admin/metrics.js';
import { diffSnapshot, hashesOf, type SnapshotCache, type TypeSnapshot } from './snapshot.js';

/**
 * One agent's config stream: per resource type, what the agent has
 * acknowledged, what is in flight, and what it rejected. At most one message
 * per type is in flight; changes that arrive meanwhile are sent (as one diff
 * from the acknowledged state) when the ACK comes. A NACKed version is not
 * sent again: the next push happens only when the model moves to another
 * version, and it is diffed from the last acknowledged state, so it carries
 * the rejected changes again together with the new ones.
 */

interface Acked {
  version: string;
  hashes: ReadonlyMap<string, string>;
}

interface Inflight {
  version: string;
  nonce: string;
  hashes: ReadonlyMap<string, string>;
  sentAt: number;
  fullState: boolean;
  upserts: number;
  removals: number;
}

interface Nack {
  version: string;
  nonce: string;
  error: string;
  at: number;
}

interface TypeState {
  /** Undefined: the agent's state is unknown (new stream, or its first full state was NACKed). */
  acked: Acked | undefined;
  /** The version the agent said it has in its Hello, until the first push. */
  resume: string | undefined;
  inflight: Inflight | undefined;
  /** The current NACK: suppresses resending this version. Cleared by a later ACK. */
  nacked: Nack | undefined;
  lastNack: Nack | undefined;
  pushes: number;
  acks: number;
  nacks: number;
  lastAckAt: number | undefined;
}

export interface AgentConnectionDeps {
  snapshots: SnapshotCache;
  metrics: ControllerMetrics;
  log: Logger;
  now: () => number;
  /** Writes a message on the stream; false when the stream is gone. */
  send: (msg: ConfigMessage) => boolean;
}

let nextId = 0;

export class AgentConnection {
  readonly id = ++nextId;
  readonly node: string;
  readonly agentVersion: string;
  readonly connectedAt: number;
  private readonly types = new Map<ResourceType, TypeState>();
  private nonceCounter = 0;
  private closed = false;

  constructor(
    hello: Hello,
    readonly subject: string,
    readonly peer: string,
    private readonly deps: AgentConnectionDeps,
  ) {
    this.node = hello.nodeName;
    this.agentVersion = hello.agentVersion;
    this.connectedAt = deps.now();
    for (const t of RESOURCE_TYPES) {
      const resume = hello.knownVersions?.[t];
      this.types.set(t, { acked: undefined, resume: resume || undefined, inflight: undefined, nacked: undefined, lastNack: undefined, pushes: 0, acks: 0, nacks: 0, lastAckAt: undefined });
    }
  }

  /** Pushes every type that has something to send. `changedAt`: when the change being pushed happened. */
  push(changedAt?: number): void {
    for (const t of RESOURCE_TYPES) this.pushType(t, changedAt);
  }

  private pushType(type: ResourceType, changedAt?: number): void {
    const st = this.types.get(type)!;
    if (this.closed || st.inflight) return;
    const snap = this.deps.snapshots.forNode(this.node, type);
    let msg: ConfigMessage;
    let fullState = false;
    if (st.acked === undefined) {
      if (st.resume !== undefined && st.resume === snap.version) {
        // The agent already has exactly this set: confirm the version, send nothing.
        msg = this.message(type, snap, [], [], false);
      } else {
        if (st.nacked?.version === snap.version) return;
        fullState = true;
        msg = this.message(type, snap, [...snap.entries.keys()].sort(), [], true);
      }
    } else {
      if (snap.version === st.acked.version) return;
      if (st.nacked?.version === snap.version) return;
      const d = diffSnapshot(st.acked.hashes, snap);
      msg = this.message(type, snap, d.upserts, d.removals, false);
    }
    st.resume = undefined;
    const now = this.deps.now();
    st.inflight = { version: snap.version, nonce: msg.nonce, hashes: hashesOf(snap), sentAt: now, fullState, upserts: msg.upserts.length, removals: msg.removals.length };
    st.pushes++;
    if (!this.deps.send(msg)) {
      st.inflight = undefined;
      return;
    }
    this.deps.metrics.pushes.inc({ type });
    if (changedAt !== undefined) this.deps.metrics.convergenceSeconds.observe({ type }, Math.max(0, now - changedAt) / 1000);
    this.deps.log.debug({ node: this.node, type, version: snap.version, nonce: msg.nonce, upserts: msg.upserts.length, removals: msg.removals.length, fullState }, 'push');
  }

  private message(type: ResourceType, snap: TypeSnapshot, upserts: string[], removals: string[], fullState: boolean): ConfigMessage {
    return {
      type,
      version: snap.version,
      nonce: `${this.id.toString(36)}-${(++this.nonceCounter).toString(36)}`,
      upserts: upserts.map((name) => toWire(type, name, snap.entries.get(name)!.resource)),
      removals,
      fullState,
    };
  }

  /** Whether the agent holds (or rejected) the current version of every type, with nothing in flight. */
  upToDate(): boolean {
    if (this.closed) return true;
    for (const [type, st] of this.types) {
      if (st.inflight) return false;
      const version = this.deps.snapshots.forNode(this.node, type).version;
      if (st.acked?.version !== version && st.nacked?.version !== version) return false;
    }
    return true;
  }

  onAck(ack: Ack): void {
    if (!isResourceType(ack.type)) {
      this.deps.log.warn({ node: this.node, type: ack.type }, 'ACK for an unknown resource type; ignored');
      return;
    }
    const st = this.types.get(ack.type)!;
    const inflight = st.inflight;
    if (!inflight || inflight.nonce !== ack.nonce) {
      this.deps.log.debug({ node: this.node, type: ack.type, nonce: ack.nonce }, 'stale ACK; ignored');
      return;
    }
    st.inflight = undefined;
    const now = this.deps.now();
    const seconds = Math.max(0, now - inflight.sentAt) / 1000;
    if (ack.error) {
      const nack: Nack = { version: inflight.version, nonce: inflight.nonce, error: ack.error.message, at: now };
      st.nacked = nack;
      st.lastNack = nack;
      st.nacks++;
      this.deps.metrics.nacks.inc({ type: ack.type });
      this.deps.metrics.pushAckSeconds.observe({ type: ack.type, result: 'nack' }, seconds);
      this.deps.log.warn(
        { code: 'AMBIT_ERR_CONFIG_NACK', node: this.node, type: ack.type, version: inflight.version, error: ack.error.message },
        `node ${this.node} rejected ${ack.type} version ${inflight.version}; it keeps its previous config, and this version is not resent`,
      );
    } else {
      st.acked = { version: inflight.version, hashes: inflight.hashes };
      st.nacked = undefined;
      st.acks++;
      st.lastAckAt = now;
      this.deps.metrics.acks.inc({ type: ack.type });
      this.deps.metrics.pushAckSeconds.observe({ type: ack.type, result: 'ack' }, seconds);
    }
    // Changes that arrived while this message was in flight go out now.
    this.pushType(ack.type);
  }

  close(): void {
    this.closed = true;
  }

  /** For /debug/agents. */
  status(): unknown {
    const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
    return {
      node: this.node,
      subject: this.subject,
      peer: this.peer,
      agentVersion: this.agentVersion,
      connectedAt: iso(this.connectedAt),
      upToDate: this.upToDate(),
      types: Object.fromEntries(
        [...this.types].map(([t, s]) => [
          t,
          {
            ackedVersion: s.acked?.version ?? null,
            inflight: s.inflight ? { version: s.inflight.version, nonce: s.inflight.nonce, sentAt: iso(s.inflight.sentAt), fullState: s.inflight.fullState, upserts: s.inflight.upserts, removals: s.inflight.removals } : null,
            nacked: s.nacked ? { ...s.nacked, at: iso(s.nacked.at) } : null,
            lastNack: s.lastNack ? { ...s.lastNack, at: iso(s.lastNack.at) } : null,
            pushes: s.pushes,
            acks: s.acks,
            nacks: s.nacks,
            lastAckAt: iso(s.lastAckAt),
          },
        ]),
      ),
    };
  }
}
