import type { WaypointRef } from '../../lib/xds/index.js';
import type { MeshState } from '../../node-agent/state/mesh-state.js';

/** What `ambit policy explain` is asked: one call from a pod. */
export interface ExplainQuestion {
  source: { namespace: string; name: string };
  destination: Destination;
  /** Undefined: the Service's only port, else required. */
  port: number | undefined;
  /** Set when any of --method, --path, --header is given: the call is an HTTP request. */
  request: { method: string; path: string; headers: Record<string, string> } | undefined;
}

export type Destination =
  | { kind: 'service'; namespace: string; name: string }
  | { kind: 'pod'; namespace: string; name: string }
  /** `ns/name` that may be either: a Service first, as a client's DNS name would be. */
  | { kind: 'either'; namespace: string; name: string }
  | { kind: 'address'; ip: string };

/** A proxy's rebuilt state and who it is. */
export interface HeldState {
  /** The agent's process or the waypoint pod, for the output. */
  proxy: string;
  state: MeshState;
  /** Whether the proxy's config was complete (an incomplete one admits nothing). */
  complete: boolean;
}

/** Where explain gets the config the proxies hold (their dumps in the CLI; tests pass states). */
export interface ConfigSource {
  agent(node: string): Promise<HeldState>;
  waypoint(ref: WaypointRef): Promise<HeldState>;
}

export type Verdict = 'ALLOW' | 'DENY' | 'MIXED' | 'FAIL';

/** One AuthorizationPolicy as it bears on the call at one proxy. */
export interface PolicyVerdict {
  policy: string;
  action: string;
  /** Whether its rules match this call (for AUDIT: whether it would be flagged). */
  matches: boolean;
  /** The policy that decided: the matching DENY, or the ALLOW that admitted. */
  decisive: boolean;
  rules: string;
  /** Why its HTTP fields cannot be read here, when they cannot. */
  note?: string;
}

/** One proxy on the call's path and what it does with it. */
export interface Step {
  at: 'source' | 'waypoint' | 'destination';
  /** `node-agent of node1 (agent-node1)`, `waypoint ns/wp (pod ...)`. */
  proxy: string;
  /** What it does, in one sentence. */
  summary: string;
  /** For the destination: the endpoint this step is about. */
  endpoint?: string;
  mtls?: { mode: string; from: string | null; transport: 'mtls' | 'plaintext' };
  policies?: PolicyVerdict[];
  route?: { name: string; rule: string; match: string; backends: string[] } | { name: null; reason: string };
  trafficPolicy?: string;
  allowed: boolean;
  /** Why it refuses, as the proxy says it (its log and its answer). */
  reason?: string;
  /** What the client sees when this step refuses. */
  answer?: string;
}

export interface Explanation {
  source: { pod: string; node: string; identity: string; meshed: boolean; ip: string };
  destination: { asked: string; service: string | null; address: string; port: number; protocol: 'http' | 'tcp' };
  waypoint: WaypointRef | null;
  steps: Step[];
  verdict: Verdict;
  reason: string;
}
