import { toCoreEvent } from './events-v1.js';
import type { ResourceType } from './resources.js';
import type { KubeObject } from './types.js';

/**
 * Server-side printing: `kubectl get` asks for `as=Table` and prints the
 * columns the server chooses. Pods, services, nodes, namespaces,
 * deployments, jobs and events get the columns kubectl users know; other
 * types NAME and AGE.
 */

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  priority: number;
  /** `name` for the column that holds the object's name when it is not NAME. */
  format?: 'name';
  cell: (o: Readonly<KubeObject>, now: Date) => string | number;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Age the way kubectl prints it (k8s.io/apimachinery duration.HumanDuration). */
export function humanAge(from: string | undefined, now: Date): string {
  if (!from) return '<unknown>';
  const secs = Math.floor((now.getTime() - Date.parse(from)) / 1000);
  if (Number.isNaN(secs)) return '<unknown>';
  if (secs < -1) return '<invalid>';
  if (secs < 120) return `${Math.max(secs, 0)}s`;
  const mins = Math.floor(secs / 60);
  if (mins < 10) return secs % 60 === 0 ? `${mins}m` : `${mins}m${secs % 60}s`;
  if (mins < 180) return `${mins}m`;
  const hours = Math.floor(mins / 60);
  if (hours < 8) return mins % 60 === 0 ? `${hours}h` : `${hours}h${mins % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (days < 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 730) return `${days}d`;
  return `${Math.floor(days / 365)}y`;
}

const get = (o: unknown, path: string): any => path.split('.').reduce<any>((cur, k) => (cur == null ? undefined : cur[k]), o);

const NAME: Column = { name: 'Name', type: 'string', priority: 0, cell: (o) => o.metadata.name ?? '' };
const AGE: Column = { name: 'Age', type: 'string', priority: 0, cell: (o, now) => humanAge(o.metadata.creationTimestamp, now) };

function podStatus(o: Readonly<KubeObject>): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  for (const cs of (get(o, 'status.containerStatuses') ?? []) as any[]) {
    const reason = cs?.state?.waiting?.reason ?? cs?.state?.terminated?.reason;
    if (reason) return String(reason);
  }
  return String(get(o, 'status.phase') ?? 'Unknown');
}

const coreEvent = (o: Readonly<KubeObject>): Readonly<KubeObject> => (o.apiVersion === 'events.k8s.io/v1' ? toCoreEvent(o) : o);

/**
 * An Event's times and count as kube-apiserver prints them (printEvent):
 * first seen is firstTimestamp, else eventTime; last seen is the series'
 * last observation, else lastTimestamp, else first seen; an Event without a
 * count or series happened once.
 */
function eventSeen(o: Readonly<KubeObject>, now: Date): { first: string; last: string; count: number } {
  const e = coreEvent(o);
  const first = humanAge(get(e, 'firstTimestamp') || get(e, 'eventTime') || undefined, now);
  const series = get(e, 'series');
  if (series) return { first, last: humanAge(series.lastObservedTime, now), count: Number(series.count) || 1 };
  const last = get(e, 'lastTimestamp') ? humanAge(get(e, 'lastTimestamp'), now) : first;
  return { first, last, count: Number(get(e, 'count')) || 1 };
}

function eventObject(o: Readonly<KubeObject>): string {
  const ref = get(coreEvent(o), 'involvedObject') ?? {};
  const kind = String(ref.kind ?? '').toLowerCase();
  return ref.name ? `${kind}/${ref.name}` : kind;
}

function eventSource(o: Readonly<KubeObject>): string {
  const e = coreEvent(o);
  const component = get(e, 'source.component') || get(e, 'reportingComponent') || '';
  const instance = get(e, 'source.host') || get(e, 'reportingInstance') || '';
  return instance ? `${component}, ${instance}` : component;
}

/** Core v1 and events.k8s.io/v1 Events print alike (one printer for both, as kube-apiserver has). */
const EVENT_COLUMNS: Column[] = [
  { name: 'Last Seen', type: 'string', priority: 0, cell: (o, now) => eventSeen(o, now).last },
  { name: 'Type', type: 'string', priority: 0, cell: (o) => get(o, 'type') ?? '' },
  { name: 'Reason', type: 'string', priority: 0, cell: (o) => get(o, 'reason') ?? '' },
  { name: 'Object', type: 'string', priority: 0, cell: eventObject },
  { name: 'Subobject', type: 'string', priority: 1, cell: (o) => get(coreEvent(o), 'involvedObject.fieldPath') ?? '' },
  { name: 'Source', type: 'string', priority: 1, cell: eventSource },
  { name: 'Message', type: 'string', priority: 0, cell: (o) => String(get(coreEvent(o), 'message') ?? '').trim() },
  { name: 'First Seen', type: 'string', priority: 1, cell: (o, now) => eventSeen(o, now).first },
  { name: 'Count', type: 'string', priority: 1, cell: (o, now) => eventSeen(o, now).count },
  { name: 'Name', type: 'string', priority: 1, format: 'name', cell: (o) => o.metadata.name ?? '' },
];

function servicePorts(o: Readonly<KubeObject>): string {
  const ports = (get(o, 'spec.ports') ?? []) as any[];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? ':' + p.nodePort : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

const COLUMNS: Record<string, Column[]> = {
  pods: [
    NAME,
    {
      name: 'Ready',
      type: 'string',
      priority: 0,
      cell: (o) => {
        const total = ((get(o, 'spec.containers') ?? []) as unknown[]).length;
        const ready = ((get(o, 'status.containerStatuses') ?? []) as any[]).filter((c) => c?.ready).length;
        return `${ready}/${total}`;
      },
    },
    { name: 'Status', type: 'string', priority: 0, cell: podStatus },
    {
      name: 'Restarts',
      type: 'string',
      priority: 0,
      cell: (o) => String(((get(o, 'status.containerStatuses') ?? []) as any[]).reduce((n, c) => n + (Number(c?.restartCount) || 0), 0)),
    },
    AGE,
    { name: 'IP', type: 'string', priority: 1, cell: (o) => get(o, 'status.podIP') ?? '<none>' },
    { name: 'Node', type: 'string', priority: 1, cell: (o) => get(o, 'spec.nodeName') ?? '<none>' },
  ],
  services: [
    NAME,
    { name: 'Type', type: 'string', priority: 0, cell: (o) => get(o, 'spec.type') ?? 'ClusterIP' },
    { name: 'Cluster-IP', type: 'string', priority: 0, cell: (o) => get(o, 'spec.clusterIP') ?? '<none>' },
    { name: 'External-IP', type: 'string', priority: 0, cell: () => '<none>' },
    { name: 'Port(s)', type: 'string', priority: 0, cell: servicePorts },
    AGE,
  ],
  namespaces: [NAME, { name: 'Status', type: 'string', priority: 0, cell: (o) => get(o, 'status.phase') ?? 'Active' }, AGE],
  nodes: [
    NAME,
    {
      name: 'Status',
      type: 'string',
      priority: 0,
      cell: (o) => {
        const ready = ((get(o, 'status.conditions') ?? []) as any[]).find((c) => c?.type === 'Ready');
        return ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown';
      },
    },
    AGE,
    { name: 'Version', type: 'string', priority: 0, cell: (o) => get(o, 'status.nodeInfo.kubeletVersion') ?? '' },
    { name: 'Internal-IP', type: 'string', priority: 1, cell: (o) => ((get(o, 'status.addresses') ?? []) as any[]).find((a) => a?.type === 'InternalIP')?.address ?? '<none>' },
  ],
  deployments: [
    NAME,
    { name: 'Ready', type: 'string', priority: 0, cell: (o) => `${get(o, 'status.readyReplicas') ?? 0}/${get(o, 'spec.replicas') ?? 1}` },
    { name: 'Up-to-date', type: 'integer', priority: 0, cell: (o) => Number(get(o, 'status.updatedReplicas') ?? 0) },
    { name: 'Available', type: 'integer', priority: 0, cell: (o) => Number(get(o, 'status.availableReplicas') ?? 0) },
    AGE,
  ],
  jobs: [
    NAME,
    {
      name: 'Status',
      type: 'string',
      priority: 0,
      cell: (o) => {
        const done = ((get(o, 'status.conditions') ?? []) as any[]).find((c) => (c?.type === 'Complete' || c?.type === 'Failed') && c?.status === 'True');
        return done ? String(done.type) : 'Running';
      },
    },
    { name: 'Completions', type: 'string', priority: 0, cell: (o) => `${get(o, 'status.succeeded') ?? 0}/${get(o, 'spec.completions') ?? 1}` },
    AGE,
  ],
  // As the API server prints them: who holds the Lease is what `kubectl get lease` is for.
  leases: [NAME, { name: 'Holder', type: 'string', priority: 0, cell: (o) => get(o, 'spec.holderIdentity') || '<none>' }, AGE],
  events: EVENT_COLUMNS,
};

function rowObject(o: Readonly<KubeObject>, include: IncludeObject, tableApiVersion: string): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: tableApiVersion, metadata: o.metadata };
}

/** A `meta.k8s.io` Table of the given objects. */
export function toTable(
  res: ResourceType,
  items: readonly Readonly<KubeObject>[],
  opts: { resourceVersion: string; include: IncludeObject; apiVersion: string; now: Date; continue?: string },
): unknown {
  const columns = COLUMNS[res.plural] ?? [NAME, AGE];
  const metadata: Record<string, string> = { resourceVersion: opts.resourceVersion };
  if (opts.continue) metadata.continue = opts.continue;
  return {
    kind: 'Table',
    apiVersion: opts.apiVersion,
    metadata,
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c === NAME ? 'name' : (c.format ?? ''),
      description: c === NAME || c.format === 'name' ? 'Name must be unique within a namespace.' : '',
      priority: c.priority,
    })),
    rows: items.map((o) => {
      const object = rowObject(o, opts.include, opts.apiVersion);
      return object === undefined ? { cells: columns.map((c) => c.cell(o, opts.now)) } : { cells: columns.map((c) => c.cell(o, opts.now)), object };
    }),
  };
}

/**
 * The Table version an `Accept` header asks for, or undefined for a plain
 * object. kubectl sends `application/json;as=Table;v=v1;g=meta.k8s.io, ..., application/json`.
 */
export function wantsTable(accept: string | undefined): string | undefined {
  for (const part of (accept ?? '').split(',')) {
    const params = new Map(
      part
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string]),
    );
    // The first acceptable entry wins: a plain JSON entry before any Table means "no table".
    if (params.get('as') !== 'Table') {
      const media = part.split(';')[0]!.trim();
      if (media === 'application/json' || media === '*/*' || media === 'application/*') return undefined;
      continue;
    }
    const g = params.get('g') ?? 'meta.k8s.io';
    const v = params.get('v') ?? 'v1';
    if (g === 'meta.k8s.io' && (v === 'v1' || v === 'v1beta1')) return `meta.k8s.io/${v}`;
  }
  return undefined;
}
