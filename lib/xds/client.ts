import * as grpc from '@grpc/grpc-js';
import { exponentialBackoff, type Backoff } from '../backoff.js';
import { logger, type Logger } from '../log.js';
import { bearerMetadata, readToken, type TokenSource } from './auth.js';
import { controllerTlsFailure, type ControllerChannel } from './credentials.js';
import { loadAmbitProtos } from './proto.js';
import { fromWire } from './resources.js';
import { realTimers, type Timers } from './timers.js';
import { RESOURCE_TYPES, isResourceType, type AgentMessage, type ConfigMessage, type ResourceMap, type ResourceType } from './types.js';

/**
 * The agent side of the MeshConfig stream: connect, say hello with the
 * versions already applied, hand every update to `onUpdate`, ACK what it
 * applied and NACK what it rejected, and reconnect with backoff when the
 * stream ends. A `fullState` message is turned into upserts plus removals
 * here, so `onUpdate` only ever sees increments.
 */

export type UpdateResult = { ok: true } | { ok: false; error: string };

/** `(type, upserts, removals)`, with `upserts` typed by `type` (switch on `type` to narrow). */
export type UpdateArgs = { [K in ResourceType]: [type: K, upserts: ResourceMap[K][], removals: string[]] }[ResourceType];

/**
 * Applies one update to the agent's state, all of it or none of it: a
 * rejection (`{ok:false}`) or a throw leaves the previous state in force and
 * is reported to the controller as a NACK.
 */
export type UpdateHandler = (...args: UpdateArgs) => UpdateResult | Promise<UpdateResult>;

export type ConnectionState = 'connecting' | 'connected' | 'backoff' | 'stopped';

export interface MeshConfigClientOptions {
  /** `host:port` of the controller's gRPC port (15010). */
  address: string;
  /** TLS verified against the out-of-band trust bundle (see `controllerChannel`). */
  channel: ControllerChannel;
  /** Sent as `authorization: Bearer <token>` on every (re)connect, over the verified channel only. */
  token?: TokenSource;
  nodeName: string;
  agentVersion?: string;
  onUpdate: UpdateHandler;
  onStateChange?: (next: ConnectionState, previous: ConnectionState, detail?: string) => void;
  backoff?: Backoff;
  timers?: Timers;
  log?: Logger;
}

export interface MeshConfigStatus {
  state: ConnectionState;
  /** Why the last stream ended, e.g. `UNAUTHENTICATED: ...`. */
  lastError: string | undefined;
  /** The last update this agent rejected. */
  lastNack: { type: ResourceType; version: string; error: string } | undefined;
  versions: Record<ResourceType, string>;
  /** Streams opened so far. */
  connects: number;
}

export interface MeshConfigConnection {
  /** Resolves once every resource type has been received and applied at least once. */
  readonly synced: Promise<void>;
  status(): MeshConfigStatus;
  /** Ends the stream and stops reconnecting. */
  stop(): Promise<void>;
}

export const CLIENT_CHANNEL_OPTIONS: grpc.ChannelOptions = Object.freeze({
  // Notice a dead controller (or a half-open connection after it restarts) within ~30 s.
  'grpc.keepalive_time_ms': 20_000,
  'grpc.keepalive_timeout_ms': 10_000,
  // A full state of a large cluster exceeds gRPC's default 4 MiB.
  'grpc.max_receive_message_length': 256 * 1024 * 1024,
});

interface Known {
  version: string;
  names: Set<string>;
}

type Call = grpc.ClientDuplexStream<AgentMessage, ConfigMessage>;

export function connectMeshConfig(opts: MeshConfigClientOptions): MeshConfigConnection {
  const log = opts.log ?? logger('xds-client');
  const timers = opts.timers ?? realTimers;
  const backoff = opts.backoff ?? exponentialBackoff(500, 15_000);
  const { MeshConfigClient } = loadAmbitProtos();
  const client = new MeshConfigClient(opts.address, opts.channel.credentials, { ...CLIENT_CHANNEL_OPTIONS, ...opts.channel.options });

  const known = new Map<ResourceType, Known>();
  const syncedTypes = new Set<ResourceType>();
  let markSynced!: () => void;
  const synced = new Promise<void>((r) => (markSynced = r));
  let state: ConnectionState = 'connecting';
  let call: Call | undefined;
  let callId = 0;
  let timer: unknown;
  let stopped = false;
  let lastError: string | undefined;
  let lastNack: MeshConfigStatus['lastNack'];
  let connects = 0;

  const setState = (next: ConnectionState, detail?: string): void => {
    if (state === next) return;
    const previous = state;
    state = next;
    log.info({ node: opts.nodeName, address: opts.address, ...(detail ? { detail } : {}) }, `config stream ${previous} -> ${next}`);
    opts.onStateChange?.(next, previous, detail);
  };

  const send = (c: Call, msg: AgentMessage): void => {
    if (c !== call) return;
    try {
      c.write(msg);
    } catch (err) {
      log.debug({ err: String(err) }, 'write on a closing stream');
    }
  };

  const ended = (id: number, detail: string): void => {
    if (id !== callId || stopped) return;
    callId++;
    call?.cancel();
    call = undefined;
    lastError = detail;
    const delay = backoff.next();
    const tlsHint = controllerTlsFailure(detail);
    log.warn(
      { node: opts.nodeName, address: opts.address, reason: detail, retryInMs: delay, ...(tlsHint ? { code: 'AMBIT_ERR_CONTROLLER_TLS', hint: tlsHint } : {}) },
      'config stream ended, reconnecting',
    );
    setState('backoff', detail);
    timer = timers.setTimeout(() => {
      timer = undefined;
      void open();
    }, delay);
  };

  const apply = async (c: Call, msg: ConfigMessage): Promise<void> => {
    if (!isResourceType(msg.type)) {
      send(c, { ack: { type: msg.type, version: msg.version, nonce: msg.nonce, error: { message: `unknown resource type ${JSON.stringify(msg.type)}; this agent knows ${RESOURCE_TYPES.join(', ')}` } } });
      return;
    }
    const type = msg.type;
    const prev = known.get(type) ?? { version: '', names: new Set<string>() };
    const upserts: ResourceMap[ResourceType][] = [];
    const upsertNames: string[] = [];
    for (const w of msg.upserts) {
      const r = fromWire(type, w);
      if (!r) {
        send(c, { ack: { type, version: msg.version, nonce: msg.nonce, error: { message: `resource ${JSON.stringify(w.name)} in a ${type} update is a ${w.kind ?? 'nothing'}` } } });
        return;
      }
      upserts.push(r);
      upsertNames.push(w.name);
    }
    const removals = new Set(msg.removals);
    if (msg.fullState) {
      const keep = new Set(upsertNames);
      for (const n of prev.names) if (!keep.has(n)) removals.add(n);
    }
    let result: UpdateResult = { ok: true };
    if (upserts.length > 0 || removals.size > 0) {
      try {
        result = await opts.onUpdate(...([type, upserts, [...removals]] as UpdateArgs));
      } catch (err) {
        result = { ok: false, error: `the agent failed applying it: ${err instanceof Error ? err.message : String(err)}` };
      }
    }
    if (result.ok) {
      // Recorded even if the stream died meanwhile: this is now the agent's state.
      const names = new Set(prev.names);
      for (const n of removals) names.delete(n);
      for (const n of upsertNames) names.add(n);
      known.set(type, { version: msg.version, names });
      if (!syncedTypes.has(type)) {
        syncedTypes.add(type);
        if (syncedTypes.size === RESOURCE_TYPES.length) markSynced();
      }
      log.debug({ type, version: msg.version, upserts: upserts.length, removals: removals.size }, 'applied');
      send(c, { ack: { type, version: msg.version, nonce: msg.nonce, error: null } });
    } else {
      lastNack = { type, version: msg.version, error: result.error };
      log.warn({ node: opts.nodeName, type, version: msg.version, error: result.error }, 'rejected a config update (NACK); keeping the previous state');
      send(c, { ack: { type, version: msg.version, nonce: msg.nonce, error: { message: result.error || 'rejected' } } });
    }
  };

  const open = async (): Promise<void> => {
    if (stopped) return;
    setState('connecting');
    const id = ++callId;
    let token: string | undefined;
    try {
      token = await readToken(opts.token);
    } catch (err) {
      ended(id, `reading the agent token failed: ${String(err)}`);
      return;
    }
    if (stopped || id !== callId) return;
    const c = (client as unknown as { Stream(md: grpc.Metadata): Call }).Stream(bearerMetadata(token));
    call = c;
    connects++;
    let chain = Promise.resolve();
    let first = true;
    c.on('data', (msg: ConfigMessage) => {
      if (first) {
        first = false;
        backoff.reset();
        lastError = undefined;
        setState('connected');
      }
      chain = chain.then(() => apply(c, msg)).catch((err: unknown) => log.error({ err: String(err) }, 'bug: applying a config message threw'));
    });
    c.on('error', (err: grpc.ServiceError) => ended(id, `${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`));
    // 'error' comes first for a failed call; 'status' also covers the controller ending the stream with OK.
    c.on('status', (s: grpc.StatusObject) => ended(id, s.code === grpc.status.OK ? 'the controller closed the stream' : `${grpc.status[s.code]}: ${s.details}`));
    const knownVersions: Record<string, string> = {};
    for (const [t, k] of known) knownVersions[t] = k.version;
    send(c, { hello: { nodeName: opts.nodeName, agentVersion: opts.agentVersion ?? '', knownVersions } });
  };

  void open();

  return {
    synced,
    status: () => ({
      state,
      lastError,
      lastNack,
      versions: Object.fromEntries(RESOURCE_TYPES.map((t) => [t, known.get(t)?.version ?? ''])) as Record<ResourceType, string>,
      connects,
    }),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      callId++;
      const c = call;
      call = undefined;
      c?.end();
      c?.cancel();
      client.close();
      setState('stopped');
    },
  };
}
