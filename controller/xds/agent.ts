import diagnostics from 'node:diagnostics_channel';
import type { Logger } from '../../lib/log.js';
import { RESOURCE_TYPES, isResourceType, type Ack, type Hello, type ResourceType } from '../../lib/xds/types.js';
import type { ControllerMetrics } from '../admin/metrics.js';
import type { WaypointProxy } from '../auth/authenticator.js';
import { waypointView } from '../model/scope.js';
import { encodeConfigMessage } from './encode.js';
import type { FullStateBudget } from './full-states.js';
import type { NodeViews } from './views.js';

/**
 * One agent's config stream: per resource type, what the agent holds (the
 * names and hashes it acknowledged), what is in flight, and what it
 * rejected. At most one message per type is in flight; changes that arrive
 * meanwhile are sent (as one diff from the acknowledged state) when the ACK
 * comes. A NACKed version is not sent again: the next push happens only when
 * the node's view moves to another version, and it is diffed from the last
 * acknowledged state, so it carries the rejected changes again together with
 * the new ones.
 *
 * Order, so that an agent never holds a workload or an endpoint without the
 * policies that govern it: the policy types go first in every pass, and while
 * a newer policy version waits behind a policy message still in flight, the
 * Workload and Service updates of that agent wait too. When a pod lands on a
 * node, a namespace joins the mesh or a pod becomes an endpoint, the policies
 * that now apply there are in force on the agent before the workload or
 * endpoint they cover. A policy that no longer applies may be dropped before
 * the workload change that ends its reach arrives, which only brings forward
 * the state the model already asks for.
 *
 * Routes go last: they name Services as backends, and a waypoint that held a
 * route before the Service it sends to would answer 500 for that share.
 */
const PUSH_ORDER = ['Node', 'AuthorizationPolicy', 'PeerAuthentication', 'Workload', 'Service', 'Route'] as const satisfies readonly ResourceType[];
const POLICY_TYPES: readonly ResourceType[] = ['AuthorizationPolicy', 'PeerAuthentication'];
const AFTER_POLICIES: ReadonlySet<ResourceType> = new Set(['Workload', 'Service']);

/**
 * Diagnostics channels (node:diagnostics_channel), for following the config
 * stream from inside the process: every message written (`PushEvent`) and
 * every ACK or NACK matched to one (`AckEvent`).
 */
export const PUSH_CHANNEL = 'ambit:xds:push';
export const ACK_CHANNEL = 'ambit:xds:ack';
export interface PushEvent {
  node: string;
  type: ResourceType;
  version: string;
  nonce: string;
  upserts: number;
  removals: number;
  fullState: boolean;
  bytes: number;
}
export interface AckEvent {
  node: string;
  type: ResourceType;
  version: string;
  nonce: string;
  /** Set for a NACK. */
  error: string | undefined;
}
const pushChannel = diagnostics.channel(PUSH_CHANNEL);
const ackChannel = diagnostics.channel(ACK_CHANNEL);

/** What the agent holds of a type: exact as of table generation `token`. */
interface Held {
  version: string;
  token: number;
  hashes: Map<string, string>;
}

interface Inflight {
  version: string;
  nonce: string;
  token: number;
  /** The names and hashes the message sets, and the names it removes. */
  upserts: [string, string][];
  removals: string[];
  /** Once ACKed, `upserts` is all the agent holds (a full state, or a confirmed resume). */
  replaces: boolean;
  /** A full state holds a slot of the full-state budget until it is answered. */
  fullState: boolean;
  sentAt: number;
  bytes: number;
}

interface Nack {
  version: string;
  nonce: string;
  error: string;
  at: number;
}

interface TypeState {
  /** Undefined: the agent's state is unknown (new stream, or its first full state was NACKed). */
  acked: Held | undefined;
  /** The version the agent said it has in its Hello, until the first push. */
  resume: string | undefined;
  inflight: Inflight | undefined;
  /** The current NACK: suppresses resending this version. Cleared by a later ACK. */
  nacked: Nack | undefined;
  lastNack: Nack | undefined;
  pushes: number;
  acks: number;
  nacks: number;
  bytes: number;
  lastAckAt: number | undefined;
}

export interface AgentConnectionDeps {
  views: NodeViews;
  fullStates: FullStateBudget;
  metrics: ControllerMetrics;
  log: Logger;
  now: () => number;
  /** Writes an encoded ConfigMessage on the stream; false when the stream is gone. */
  send: (msg: Buffer) => boolean;
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
  /** Called by the full-state budget when a slot frees for this connection. */
  private readonly wake = () => this.push();

  /** Who holds the stream: `node/<name>` for a node agent, `waypoint/<namespace>/<name>/<pod>` for a waypoint proxy. */
  readonly proxy: string;
  /** Which view of the tables it is served: its node's, or its Waypoint's (model/scope.ts). */
  readonly view: string;

  constructor(
    hello: Hello,
    readonly subject: string,
    readonly peer: string,
    private readonly deps: AgentConnectionDeps,
    /** Set for a waypoint proxy: it is served its node's view. */
    readonly waypoint?: WaypointProxy,
  ) {
    this.node = hello.nodeName;
    this.proxy = waypoint ? `waypoint/${waypoint.namespace}/${waypoint.name}/${waypoint.pod}` : `node/${hello.nodeName}`;
    this.view = waypoint ? waypointView(waypoint) : hello.nodeName;
    this.agentVersion = hello.agentVersion;
    this.connectedAt = deps.now();
    for (const t of RESOURCE_TYPES) {
      const resume = hello.knownVersions?.[t];
      this.types.set(t, { acked: undefined, resume: resume || undefined, inflight: undefined, nacked: undefined, lastNack: undefined, pushes: 0, acks: 0, nacks: 0, bytes: 0, lastAckAt: undefined });
    }
  }

  /** Pushes every type that has something to send, in PUSH_ORDER; whether it sent anything. `changedAt`: when the change being pushed happened. */
  push(changedAt?: number): boolean {
    // What one pass writes reaches the agent in order. Newer policies queued behind a message
    // still in flight would not: then workloads and endpoints wait for its ACK.
    const policiesQueued = POLICY_TYPES.some((p) => {
      const inflight = this.types.get(p)!.inflight;
      return inflight !== undefined && inflight.version !== this.deps.views.version(this.view, p);
    });
    let sent = false;
    for (const t of PUSH_ORDER) {
      if (policiesQueued && AFTER_POLICIES.has(t)) continue;
      const r = this.pushType(t, changedAt);
      sent ||= r === 'sent';
      // A full state waiting for a slot holds back the types after it: they must not overtake it.
      if (r === 'waiting') break;
    }
    return sent;
  }

  /** Sends what `type` needs, if anything; `waiting` when it needs a full state and there is no slot yet. */
  private pushType(type: ResourceType, changedAt?: number): 'sent' | 'nothing' | 'waiting' {
    const st = this.types.get(type)!;
    if (this.closed || st.inflight) return 'nothing';
    const table = this.deps.views.table(type);
    const version = table.version(this.view);
    let upserts: string[];
    let removals: string[] = [];
    let fullState = false;
    if (st.acked === undefined) {
      if (st.resume !== undefined && st.resume === version) {
        // The agent already has exactly this set: confirm the version, send nothing.
        upserts = [];
      } else {
        if (st.nacked?.version === version) return 'nothing';
        if (!this.deps.fullStates.take(this.wake)) return 'waiting';
        fullState = true;
        upserts = [...table.names(this.view)].sort();
      }
    } else {
      if (version === st.acked.version) return 'nothing';
      if (st.nacked?.version === version) return 'nothing';
      ({ upserts, removals } = table.diff(this.view, st.acked.hashes, st.acked.token));
    }
    const resumed = st.acked === undefined && !fullState;
    st.resume = undefined;
    const nonce = `${this.id.toString(36)}-${(++this.nonceCounter).toString(36)}`;
    const msg = encodeConfigMessage({ type, version, nonce, removals, fullState }, upserts.map((n) => table.wire(n)));
    const now = this.deps.now();
    st.inflight = {
      version,
      nonce,
      token: table.generation,
      // A confirmed resume holds the whole view: record it as a full state of what the agent has.
      upserts: resumed ? [...table.hashes(this.view)] : upserts.map((n) => [n, table.get(this.view, n)!.hash]),
      removals,
      replaces: fullState || resumed,
      fullState,
      sentAt: now,
      bytes: msg.length,
    };
    st.pushes++;
    if (!this.deps.send(msg)) {
      this.settle(st);
      return 'nothing';
    }
    st.bytes += msg.length;
    this.deps.metrics.pushes.inc({ type });
    this.deps.metrics.sentBytes.inc({ type }, msg.length);
    if (changedAt !== undefined) this.deps.metrics.convergenceSeconds.observe({ type }, Math.max(0, now - changedAt) / 1000);
    const event: PushEvent = { node: this.node, type, version, nonce, upserts: upserts.length, removals: removals.length, fullState, bytes: msg.length };
    this.deps.log.debug(event, 'push');
    if (pushChannel.hasSubscribers) pushChannel.publish(event);
    return 'sent';
  }

  /** Ends the type's message in flight: answered, or its stream is gone. */
  private settle(st: TypeState): void {
    if (st.inflight?.fullState) this.deps.fullStates.release();
    st.inflight = undefined;
  }

  /** Whether the agent holds (or rejected) the current version of every type, with nothing in flight. */
  upToDate(): boolean {
    if (this.closed) return true;
    for (const [type, st] of this.types) {
      if (st.inflight) return false;
      const version = this.deps.views.version(this.view, type);
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
    this.settle(st);
    if (ackChannel.hasSubscribers) ackChannel.publish({ node: this.node, type: ack.type, version: inflight.version, nonce: ack.nonce, error: ack.error?.message } satisfies AckEvent);
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
      st.acked = held(st.acked, inflight);
      st.nacked = undefined;
      st.acks++;
      st.lastAckAt = now;
      this.deps.metrics.acks.inc({ type: ack.type });
      this.deps.metrics.pushAckSeconds.observe({ type: ack.type, result: 'ack' }, seconds);
    }
    // Changes that arrived while this message was in flight go out now, and what waited for it.
    this.push();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.deps.fullStates.forget(this.wake);
    for (const st of this.types.values()) this.settle(st);
  }

  /** For /debug/agents. */
  status(): unknown {
    const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
    return {
      node: this.node,
      proxy: this.proxy,
      subject: this.subject,
      peer: this.peer,
      agentVersion: this.agentVersion,
      connectedAt: iso(this.connectedAt),
      upToDate: this.upToDate(),
      types: Object.fromEntries(
        [...this.types].map(([t, s]) => [
          t,
          {
            // The version this proxy's view is at now: `ambit status` compares it with ackedVersion.
            latestVersion: this.deps.views.version(this.view, t),
            ackedVersion: s.acked?.version ?? null,
            resources: s.acked?.hashes.size ?? null,
            inflight: s.inflight
              ? { version: s.inflight.version, nonce: s.inflight.nonce, sentAt: iso(s.inflight.sentAt), fullState: s.inflight.fullState, upserts: s.inflight.upserts.length, removals: s.inflight.removals.length, bytes: s.inflight.bytes }
              : null,
            nacked: s.nacked ? { ...s.nacked, at: iso(s.nacked.at) } : null,
            lastNack: s.lastNack ? { ...s.lastNack, at: iso(s.lastNack.at) } : null,
            pushes: s.pushes,
            acks: s.acks,
            nacks: s.nacks,
            bytes: s.bytes,
            lastAckAt: iso(s.lastAckAt),
          },
        ]),
      ),
    };
  }
}

/** What the agent holds once it acknowledged `m`: its previous state with the message applied. */
function held(prev: Held | undefined, m: Inflight): Held {
  // Only this connection's ACKs write its held maps, so the previous one is updated in place.
  const hashes = m.replaces || !prev ? new Map<string, string>() : prev.hashes;
  for (const n of m.removals) hashes.delete(n);
  for (const [n, h] of m.upserts) hashes.set(n, h);
  return { version: m.version, token: m.token, hashes };
}
