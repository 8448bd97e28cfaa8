import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../lib/log.js';
import { bearerToken } from '../../lib/xds/auth.js';
import type { Timers } from '../../lib/xds/timers.js';
import type { AgentMessage } from '../../lib/xds/types.js';
import type { ControllerMetrics } from '../admin/metrics.js';
import type { AgentIdentity, Authenticator } from '../auth/authenticator.js';
import type { MeshModel } from '../model/model.js';
import { AgentConnection } from './agent.js';
import { Debouncer } from './debounce.js';
import { preEncodedMeshConfig } from './encode.js';
import { FullStateBudget } from './full-states.js';
import { NodeViews } from './views.js';

/**
 * The MeshConfig service: authenticates each agent stream, holds one
 * AgentConnection per node, and pushes model changes to all of them after a
 * debounce.
 */

export interface XdsServerOptions {
  model: MeshModel;
  authenticator: Authenticator;
  metrics: ControllerMetrics;
  log: Logger;
  /** How long a burst of changes must be quiet before it is pushed; a change after a quiet spell goes out at once (debounce.ts). Default 100 ms. */
  debounceMs?: number;
  /** Longest a burst of changes delays a push. Default 1 s. */
  debounceMaxMs?: number;
  /** Full states in flight at once, across agents (full-states.ts). Default 16. */
  maxFullStates?: number;
  timers?: Timers;
  now?: () => number;
}

/** Responses are ConfigMessages encoded by the agent connections (encode.ts). */
type Call = grpc.ServerDuplexStream<AgentMessage, Buffer>;

/**
 * How long the first change after a quiet spell waits for the rest of its
 * events: long enough for a pod's status and its EndpointSlice, which the API
 * server sends within a few milliseconds, short beside the quiet period.
 */
const FIRST_PUSH_MS = 10;

/** An agent sends one Hello, then waits: anything beyond a few messages before its token is checked is not an agent. */
const MAX_MESSAGES_BEFORE_AUTH = 4;

/** Streams one node may hold at once: its agent, and the successor a rolling update starts beside it. */
const MAX_STREAMS_PER_NODE = 2;

export class XdsServer {
  readonly views: NodeViews;
  private readonly fullStates: FullStateBudget;
  /** Every agent stream, by its connection (a node has one, two during a rolling update). */
  private readonly conns = new Map<AgentConnection, { call: Call }>();
  private readonly debouncer: Debouncer;
  private readonly unsubscribe: () => void;
  private readonly now: () => number;
  private closed = false;
  private ready = false;

  constructor(private readonly o: XdsServerOptions) {
    this.now = o.now ?? Date.now;
    this.views = new NodeViews(o.model);
    this.fullStates = new FullStateBudget(o.maxFullStates ?? 16);
    this.debouncer = new Debouncer((startedAt) => this.pushAll(startedAt), {
      quietMs: o.debounceMs ?? 100,
      firstMs: FIRST_PUSH_MS,
      maxDelayMs: o.debounceMaxMs ?? 1000,
      now: this.now,
      ...(o.timers ? { timers: o.timers } : {}),
    });
    this.unsubscribe = o.model.onChange((c) => {
      if (c.types.length > 0) this.debouncer.trigger();
    });
  }

  register(server: grpc.Server): void {
    server.addService(preEncodedMeshConfig(), { Stream: (call: Call) => this.handle(call) });
  }

  get connectedCount(): number {
    return this.conns.size;
  }

  /**
   * Called once the model has synced. Until then agents may connect but get
   * nothing: a partial model (policies not listed yet) must never be pushed.
   */
  setReady(): void {
    if (this.ready) return;
    this.ready = true;
    this.pushAll(this.now());
  }

  get isReady(): boolean {
    return this.ready;
  }

  /**
   * Whether every connected agent holds the model's current config: the model
   * is synced, no push waits in the debounce, and every agent has acknowledged
   * (or rejected) the current version of every type.
   */
  converged(): boolean {
    if (!this.ready || this.debouncer.pending) return false;
    for (const conn of this.conns.keys()) if (!conn.upToDate()) return false;
    return true;
  }

  /** Pushes pending changes now instead of after the debounce. */
  flush(): void {
    this.debouncer.flush();
  }

  /** Pushes what each agent lacks; whether anything was sent. */
  private pushAll(startedAt: number): boolean {
    if (!this.ready) return false;
    let sent = false;
    for (const conn of this.conns.keys()) sent = conn.push(startedAt) || sent;
    return sent;
  }

  private handle(call: Call): void {
    const peer = call.getPeer();
    const log = this.o.log;
    let identity: AgentIdentity | undefined;
    let conn: AgentConnection | undefined;
    let done = false;
    const pending: AgentMessage[] = [];

    const finish = (): void => {
      if (done) return;
      done = true;
      if (conn) {
        conn.close();
        if (this.conns.delete(conn)) {
          this.o.metrics.connectedAgents.set(this.conns.size);
          log.info({ node: conn.node, proxy: conn.proxy, peer }, 'agent disconnected');
        }
      }
    };
    const refuse = (code: grpc.status, reason: string, details: string): void => {
      if (done) return;
      this.o.metrics.agentRefusals.inc({ reason });
      log.warn({ code: 'AMBIT_ERR_AGENT_AUTH', grpcCode: grpc.status[code], peer, node: identity?.node, reason, details }, 'agent stream refused');
      finish();
      call.emit('error', { code, details });
    };
    const dispatch = (msg: AgentMessage): void => {
      if (done) return;
      if (msg.hello) {
        if (conn) return refuse(grpc.status.INVALID_ARGUMENT, 'protocol', 'a second Hello on one stream');
        const node = msg.hello.nodeName;
        if (node !== identity!.node) {
          return refuse(grpc.status.PERMISSION_DENIED, 'wrong_node', `authenticated as node ${identity!.node} (${identity!.subject}); an agent may only subscribe as its own node, not ${JSON.stringify(node)}`);
        }
        // Two agents of one node (or two streams of one waypoint pod) are normal for a moment
        // (a rolling update starts the new one first); more means an old stream that died
        // without a word: the oldest goes. A waypoint proxy on the node is not its agent.
        const proxy = identity!.waypoint ? `waypoint/${identity!.waypoint.namespace}/${identity!.waypoint.name}/${identity!.waypoint.pod}` : `node/${node}`;
        const same = [...this.conns.entries()].filter(([c]) => c.proxy === proxy);
        for (const [old, { call: oldCall }] of same.slice(0, Math.max(0, same.length - (MAX_STREAMS_PER_NODE - 1)))) {
          log.info({ node, proxy, oldPeer: old.peer, peer }, 'a newer stream from the same proxy replaces the oldest');
          old.close();
          this.conns.delete(old);
          oldCall.emit('error', { code: grpc.status.ABORTED, details: 'replaced by a newer stream from the same proxy' });
        }
        conn = new AgentConnection(msg.hello, identity!.subject, peer, {
          views: this.views,
          fullStates: this.fullStates,
          metrics: this.o.metrics,
          log,
          now: this.now,
          send: (m) => {
            if (done) return false;
            try {
              call.write(m);
              return true;
            } catch {
              return false;
            }
          },
        }, identity!.waypoint);
        this.conns.set(conn, { call });
        this.o.metrics.connectedAgents.set(this.conns.size);
        log.info({ node, proxy, peer, subject: identity!.subject, agentVersion: msg.hello.agentVersion, knownVersions: msg.hello.knownVersions }, 'agent connected');
        if (this.ready) conn.push();
      } else if (msg.ack) {
        if (!conn) return refuse(grpc.status.INVALID_ARGUMENT, 'protocol', 'an ACK before the Hello');
        conn.onAck(msg.ack);
      } else {
        refuse(grpc.status.INVALID_ARGUMENT, 'protocol', 'an empty AgentMessage');
      }
    };

    call.on('data', (msg: AgentMessage) => {
      if (identity) dispatch(msg);
      else if (pending.length < MAX_MESSAGES_BEFORE_AUTH) pending.push(msg);
      else refuse(grpc.status.INVALID_ARGUMENT, 'protocol', `more than ${MAX_MESSAGES_BEFORE_AUTH} messages before the stream was authenticated`);
    });
    call.on('end', () => {
      finish();
      call.end();
    });
    call.on('cancelled', finish);
    call.on('error', finish);
    call.on('close', finish);

    if (this.closed) return refuse(grpc.status.UNAVAILABLE, 'shutdown', 'the controller is shutting down');
    const token = bearerToken(call.metadata);
    if (!token) return refuse(grpc.status.UNAUTHENTICATED, 'no_token', 'no bearer token: send "authorization: Bearer <token>" metadata');
    this.o.authenticator.authenticate(token).then(
      (res) => {
        if (done) return;
        if (!res.ok) return refuse(grpc.status.UNAUTHENTICATED, 'bad_token', res.error.message);
        identity = res.value;
        for (const m of pending.splice(0)) dispatch(m);
      },
      (err: unknown) => refuse(grpc.status.INTERNAL, 'auth_error', `authentication failed: ${String(err)}`),
    );
  }

  /** For /debug/agents. */
  agents(): unknown[] {
    return [...this.conns.keys()].map((conn) => conn.status()).sort((a, b) => ((a as { node: string }).node < (b as { node: string }).node ? -1 : 1));
  }

  /** Ends every stream (agents reconnect to another replica or to the restarted controller). */
  close(): void {
    this.closed = true;
    this.unsubscribe();
    this.debouncer.cancel();
    for (const [conn, { call }] of this.conns) {
      conn.close();
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'the controller is shutting down' });
    }
    this.conns.clear();
    this.o.metrics.connectedAgents.set(0);
  }
}
