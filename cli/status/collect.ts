import { RESOURCE_TYPES } from '../../lib/xds/index.js';
import type { AdminEndpoint } from '../cluster/mesh-processes.js';
import type { Cluster } from '../cluster/target.js';
import { agentStreamId, readDump, readJson, waypointStreamId, type ProxyDump, type StreamStatus, type TypeStream } from '../proxies/dumps.js';
import type { CertStatus, ControllerStatus, ProxyStatus, StatusReport, TypeStatus } from './report.js';

interface CaDebug {
  trustBundle?: { subject: string; notAfter: string }[];
  serving?: { notAfter: string } | string;
}

/** The sync state of one type of one stream (see SyncState). */
export function syncState(t: TypeStream | undefined): TypeStatus {
  if (!t) return { state: 'NOT SENT', acked: null, latest: undefined };
  const base = { acked: t.ackedVersion, latest: t.latestVersion };
  if (t.nacked && t.nacked.version === t.latestVersion) return { ...base, state: 'NACKED', error: t.nacked.error };
  if (t.inflight) return { ...base, state: 'STALE' };
  if (t.ackedVersion === null) return { ...base, state: 'NOT SENT' };
  // A controller older than latestVersion says only what was ACKed.
  return { ...base, state: t.latestVersion === undefined || t.ackedVersion === t.latestVersion ? 'SYNCED' : 'STALE' };
}

/** The stream a proxy holds: of several (a replaced stream not yet gone), the newest. */
function streamOf(streams: readonly { controller: string; s: StreamStatus }[], id: string) {
  return streams.filter((x) => x.s.proxy === id).sort((a, b) => (a.s.connectedAt ?? '').localeCompare(b.s.connectedAt ?? '')).pop();
}

function certs(dump: ProxyDump): { certificates: CertStatus[]; certExpiry: string | undefined } {
  const certificates = (dump.certificates ?? []).map((c) => ({ identity: c.identity, notAfter: c.notAfter, rotateAt: c.rotateAt, lastError: c.lastError }));
  const expiries = certificates.map((c) => c.notAfter).filter((x): x is string => Boolean(x)).sort();
  return { certificates, certExpiry: expiries[0] };
}

async function controllerStatus(c: AdminEndpoint): Promise<{ status: ControllerStatus; streams: StreamStatus[] }> {
  const ready = await c.get('/ready').then(
    (r) => ({ ok: r.status === 200, detail: r.body.trim() }),
    (err: unknown) => ({ ok: false, detail: err instanceof Error ? err.message : String(err) }),
  );
  const agents = await readJson<StreamStatus[]>(c, '/debug/agents');
  const ca = await readJson<CaDebug>(c, '/debug/ca');
  const status: ControllerStatus = { name: c.name, ready: ready.ok, detail: agents.ok || !ready.ok ? ready.detail : `${ready.detail}; ${agents.error}`, streams: agents.ok ? agents.value.length : 0 };
  if (ca.ok) {
    if (typeof ca.value.serving === 'object') status.servingCert = { notAfter: ca.value.serving.notAfter };
    if (ca.value.trustBundle) status.trustBundle = ca.value.trustBundle.map((r) => ({ subject: r.subject, notAfter: r.notAfter }));
  }
  return { status, streams: agents.ok ? agents.value : [] };
}

/**
 * Everything `ambit status` shows: each controller replica (ready, streams, its serving
 * certificate and the roots), and each proxy with, per resource type, the version the
 * controller last pushed to its view against the one it ACKed (from the replica holding its
 * stream), and its certificates' expiry (from its own dump).
 */
export async function collectStatus(cluster: Cluster, now: number): Promise<StatusReport> {
  const { mesh } = cluster;
  const [controllers, agents, waypoints] = await Promise.all([mesh.controllers(), mesh.agents(), mesh.waypoints()]);
  const cp = await Promise.all(controllers.map(controllerStatus));
  const streams = cp.flatMap((c) => c.streams.map((s) => ({ controller: c.status.name, s })));
  const problems: string[] = [];

  const proxy = async (kind: ProxyStatus['kind'], name: string, node: string | undefined, admin: AdminEndpoint): Promise<ProxyStatus> => {
    const dump = await readDump(admin);
    const d = dump.ok ? dump.value : undefined;
    const id = kind === 'waypoint' ? (d?.waypoint && d.pod ? waypointStreamId(d.waypoint, d.pod) : undefined) : agentStreamId(d?.node ?? node ?? '');
    const held = id ? streamOf(streams, id) : undefined;
    const types = Object.fromEntries(RESOURCE_TYPES.map((t) => [t, syncState(held?.s.types[t])]));
    return {
      kind,
      name: kind === 'waypoint' && d?.waypoint && d.pod ? `${d.waypoint.namespace}/${d.pod}` : name,
      node: d?.node ?? node,
      ...(d?.waypoint ? { waypoint: d.waypoint } : {}),
      controller: held?.controller,
      stream: d?.controller.state,
      types,
      ...(d ? certs(d) : { certificates: [], certExpiry: undefined }),
      ...(dump.ok ? {} : { error: dump.error }),
    };
  };
  const proxies = await Promise.all([
    ...agents.map((a) => proxy('node-agent', a.name, a.node, a.admin)),
    ...waypoints.map((w) => proxy('waypoint', w.name, w.node, w.admin)),
  ]);

  if (controllers.length === 0) problems.push('no controller is running');
  for (const c of cp) if (!c.status.ready) problems.push(`controller ${c.status.name} is not ready: ${c.status.detail}`);
  for (const p of proxies) {
    if (p.error) problems.push(`${p.kind} ${p.name}: ${p.error}`);
    if (!p.controller) {
      problems.push(`${p.kind} ${p.name} holds no config stream with any controller (its own view: ${p.stream ?? 'unknown'})`);
      continue;
    }
    const bad = Object.entries(p.types).filter(([, t]) => t.state !== 'SYNCED');
    if (bad.length) problems.push(`${p.kind} ${p.name}: ${bad.map(([type, t]) => `${type} ${t.state}${t.error ? ` (${t.error})` : ''}`).join(', ')}`);
    for (const c of p.certificates) {
      if (!c.notAfter) problems.push(`${p.kind} ${p.name}: no certificate for ${c.identity}${c.lastError ? `: ${c.lastError}` : ''}`);
      else if (Date.parse(c.notAfter) <= now) problems.push(`${p.kind} ${p.name}: the certificate of ${c.identity} expired at ${c.notAfter}${c.lastError ? ` (renewal: ${c.lastError})` : ''}`);
    }
  }
  return { target: cluster.target, controlPlane: cp.map((c) => c.status), proxies, healthy: problems.length === 0, problems };
}
