import type { RootSummary } from '../../lib/identity/index.js';
import type { MeshConfigStatus } from '../../lib/xds/client.js';
import type { ResourceType, WaypointRef } from '../../lib/xds/index.js';
import type { CertSummary } from '../../node-agent/identity/certs.js';
import { FILE_KEYS } from '../../node-agent/state/file-source.js';
import { describeError } from '../cluster/kube.js';
import type { AdminEndpoint } from '../cluster/mesh-processes.js';

/**
 * What the CLI reads of a proxy's `/config_dump` (node-agent/app.ts,
 * waypoint/app.ts): the fields it relies on, typed; the rest is passed
 * through untouched for `-o json`.
 */
export interface ProxyDump {
  /** Set for a waypoint proxy. */
  waypoint?: WaypointRef;
  pod?: string;
  node: string;
  identity?: string;
  pid: number;
  controller: Partial<MeshConfigStatus> & { channel?: string; localConfigFile?: string };
  trustBundle: { path: string; roots: RootSummary[]; lastError?: string };
  certificates: CertSummary[];
  /** What the proxy holds, in the push's own form (MeshState.dump()). */
  model: ModelDump;
  [more: string]: unknown;
}

/** MeshState.dump(): one list per resource type under the local config file's keys. */
export type ModelDump = { generation: number; complete: boolean } & Partial<Record<(typeof FILE_KEYS)[ResourceType], unknown[]>>;

/** A read that did not give an answer, with what to check; expected failures are values. */
export type Read<T> = { ok: true; value: T } | { ok: false; error: string };

/** GETs an admin path and parses its JSON. */
export async function readJson<T>(admin: AdminEndpoint, path: string): Promise<Read<T>> {
  let r;
  try {
    r = await admin.get(path);
  } catch (err) {
    return { ok: false, error: `${admin.name}${path}: ${describeError(err)}` };
  }
  if (r.status !== 200) return { ok: false, error: `${admin.name}${path}: HTTP ${r.status}: ${r.body.trim().slice(0, 200)}` };
  try {
    return { ok: true, value: JSON.parse(r.body) as T };
  } catch {
    return { ok: false, error: `${admin.name}${path}: the answer is not JSON (${r.body.slice(0, 80)})` };
  }
}

/** A proxy's config dump; one from a proxy too old to include its model is refused by name. */
export async function readDump(admin: AdminEndpoint): Promise<Read<ProxyDump>> {
  const r = await readJson<ProxyDump>(admin, '/config_dump');
  if (!r.ok) return r;
  if (typeof r.value.model !== 'object' || r.value.model === null) {
    return { ok: false, error: `${admin.name}/config_dump has no model: the proxy predates ambit config-dump (upgrade it)` };
  }
  return r;
}

/** One config stream as the controller's /debug/agents shows it (controller/xds/agent.ts status()). */
export interface StreamStatus {
  node: string;
  /** `node/<node>` or `waypoint/<namespace>/<name>/<pod>`. */
  proxy: string;
  peer?: string;
  connectedAt?: string;
  upToDate: boolean;
  types: Record<string, TypeStream>;
}

export interface TypeStream {
  latestVersion?: string;
  ackedVersion: string | null;
  inflight: { version: string; sentAt: string } | null;
  nacked: { version: string; error: string; at: string } | null;
}

/** The stream id of an agent or a waypoint proxy, as the controller keys it. */
export const agentStreamId = (node: string) => `node/${node}`;
export const waypointStreamId = (w: WaypointRef, pod: string) => `waypoint/${w.namespace}/${w.name}/${pod}`;
