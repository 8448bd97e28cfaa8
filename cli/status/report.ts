import type { ResourceType, WaypointRef } from '../../lib/xds/index.js';
import type { Target } from '../cluster/target.js';

/**
 * The structure `ambit status -o json|yaml` prints (docs/operations.md). Field names are
 * kept stable for scripts.
 */
export interface StatusReport {
  target: Target;
  controlPlane: ControllerStatus[];
  proxies: ProxyStatus[];
  /** Every controller ready, every proxy SYNCED on every type, no certificate expired: exit 0. */
  healthy: boolean;
  /** What is not healthy, one sentence each. */
  problems: string[];
}

export interface ControllerStatus {
  name: string;
  ready: boolean;
  /** /ready's answer, or why it could not be read. */
  detail: string;
  /** Config streams it serves. */
  streams: number;
  /** The certificate it serves 15010 with. */
  servingCert?: { notAfter: string };
  /** The mesh's roots. */
  trustBundle?: { subject: string; notAfter: string }[];
}

/**
 * Per resource type, as istioctl proxy-status says it: SYNCED (the proxy ACKed the
 * version its view is at), STALE (a newer version is in flight or queued), NACKED (it
 * rejected the latest and keeps the previous), NOT SENT (nothing acknowledged yet).
 */
export type SyncState = 'SYNCED' | 'STALE' | 'NACKED' | 'NOT SENT';

export interface TypeStatus {
  state: SyncState;
  acked: string | null;
  latest: string | undefined;
  error?: string;
}

export interface CertStatus {
  identity: string;
  notAfter: string | undefined;
  rotateAt: string | undefined;
  lastError: string | undefined;
}

export interface ProxyStatus {
  kind: 'node-agent' | 'waypoint';
  /** The agent's process or pod name, or the waypoint proxy's pod. */
  name: string;
  node: string | undefined;
  waypoint?: WaypointRef;
  /** The controller replica whose stream it holds; undefined: none has it. */
  controller: string | undefined;
  /** The proxy's own view of its stream (connected, connecting, ...), from its dump. */
  stream: string | undefined;
  types: Partial<Record<ResourceType, TypeStatus>>;
  certificates: CertStatus[];
  /** The earliest expiry among its certificates. */
  certExpiry: string | undefined;
  /** Why some of this could not be read. */
  error?: string;
}
