/** `ambit waypoint apply|list|delete`: Waypoints and namespace enrollment, through the Kubernetes API with the user's credentials (as istioctl waypoint). */
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Namespace, type V1Service } from '@kubernetes/client-node';
import { AmbitError } from '../../lib/errors.js';
import { AMBIT_API_VERSION, AMBIT_GROUP, WAYPOINT_DEFAULTS, WAYPOINT_FOR, type Waypoint, type WaypointFor } from '../../lib/crds/index.js';
import { USE_WAYPOINT_LABEL } from '../../lib/mesh/labels.js';
import { serviceWaypoint } from '../../controller/model/workloads.js';
import { apiStatus, condition, describeError } from '../cluster/kube.js';
import { withCluster } from '../cluster/target.js';
import { EXIT } from '../exit.js';
import { renderData, table } from '../format.js';
import { upLab } from '../lab.js';
import { DNS_LABEL, DNS_SUBDOMAIN, parse, TARGET_OPTIONS, TARGET_USAGE, targetOptions, UsageError } from '../options.js';

export const WAYPOINT_USAGE = `usage: ambit waypoint apply  [-n NAMESPACE] [--name NAME] [--for service|workload|all] [--enroll-namespace]
       ambit waypoint list   [-n NAMESPACE | -A] [-o human|json|yaml]
       ambit waypoint delete [-n NAMESPACE] [--name NAME]

  apply               creates the Waypoint, or updates its spec.for; the controller runs it
                      (a Deployment and a Service named after it)
  --enroll-namespace  also labels the namespace ${USE_WAYPOINT_LABEL}=NAME: its Services send
                      their traffic through the waypoint (a Service's own label wins)
  list                the Waypoints with their Programmed condition and the Services bound to each
  delete              deletes the Waypoint, and takes the namespace's label off if it names it
  -n, --namespace     the Waypoint's namespace (default "default")
  --name              its name (default "waypoint")
  -A, --all-namespaces  list: every namespace

${TARGET_USAGE}

Exit codes: 0 done (list: every Waypoint Programmed); 1 list: some Waypoint is not Programmed;
2 bad usage; 3 the API refused or could not be reached (the message says why).
`;

const VERSION = AMBIT_API_VERSION.split('/')[1]!;
const PLURAL = 'waypoints';
const crd = { group: AMBIT_GROUP, version: VERSION, plural: PLURAL };

/** An API failure, saying what to check (your RBAC, the CRDs). */
function apiError(what: string, err: unknown): AmbitError {
  const code = apiStatus(err);
  const hint =
    code === 403
      ? ': your credentials may not do this (kubectl auth can-i)'
      : code === 404
        ? `: is the ${AMBIT_GROUP} CRD installed? (ambit check)`
        : '';
  return new AmbitError('AMBIT_ERR_CONFIG', `${what}: ${describeError(err)}${hint}`);
}

export async function waypointCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(WAYPOINT_USAGE);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  if (sub !== 'apply' && sub !== 'list' && sub !== 'delete') throw new UsageError(`unknown waypoint command ${JSON.stringify(sub)}: apply, list or delete`);
  const { values, positionals } = parse(rest, {
    ...TARGET_OPTIONS,
    namespace: { type: 'string', short: 'n', default: 'default' },
    name: { type: 'string', default: 'waypoint' },
    for: { type: 'string' },
    'enroll-namespace': { type: 'boolean', default: false },
    'all-namespaces': { type: 'boolean', short: 'A', default: false },
  });
  if (values.help) {
    process.stdout.write(WAYPOINT_USAGE);
    return EXIT.ok;
  }
  if (positionals.length) throw new UsageError(`unexpected ${JSON.stringify(positionals.join(' '))}`);
  const opts = targetOptions(values);
  const { namespace, name } = values;
  if (!DNS_LABEL.test(namespace)) throw new UsageError(`-n ${JSON.stringify(namespace)} is not a namespace name`);
  if (!DNS_SUBDOMAIN.test(name)) throw new UsageError(`--name ${JSON.stringify(name)} is not an object name`);
  if (values.for !== undefined && !(WAYPOINT_FOR as readonly string[]).includes(values.for)) throw new UsageError(`--for must be one of ${WAYPOINT_FOR.join(', ')}, got ${JSON.stringify(values.for)}`);
  if (sub !== 'apply' && (values.for !== undefined || values['enroll-namespace'])) throw new UsageError('--for and --enroll-namespace go with apply');
  if (sub !== 'list' && values['all-namespaces']) throw new UsageError('-A goes with list');
  return withCluster(opts, upLab, async ({ kc }) => {
    if (sub === 'apply') return apply(kc, namespace, name, values.for as WaypointFor | undefined, values['enroll-namespace']);
    if (sub === 'delete') return remove(kc, namespace, name);
    const rows = await list(kc, values['all-namespaces'] ? undefined : namespace);
    process.stdout.write(opts.output === 'human' ? renderList(rows) : renderData(rows, opts.output));
    return rows.every((r) => r.programmed === 'True') ? EXIT.ok : EXIT.failed;
  });
}

async function apply(kc: KubeConfig, namespace: string, name: string, forWhat: WaypointFor | undefined, enroll: boolean): Promise<number> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  let verb = 'created';
  const body: Waypoint = { apiVersion: AMBIT_API_VERSION, kind: 'Waypoint', metadata: { name, namespace }, spec: { for: forWhat ?? WAYPOINT_DEFAULTS.for } };
  try {
    await api.createNamespacedCustomObject({ ...crd, namespace, body });
  } catch (err) {
    if (apiStatus(err) !== 409) throw apiError(`cannot create Waypoint ${namespace}/${name}`, err);
    // It exists: only what was asked changes (another tool's fields, replicas, stay).
    verb = forWhat ? 'configured' : 'unchanged';
    if (forWhat) {
      try {
        await api.patchNamespacedCustomObject({ ...crd, namespace, name, body: { spec: { for: forWhat } } }, merge);
      } catch (e) {
        throw apiError(`cannot update Waypoint ${namespace}/${name}`, e);
      }
    }
  }
  process.stdout.write(`waypoint ${namespace}/${name} ${verb}\n`);
  if (enroll) {
    try {
      await kc.makeApiClient(CoreV1Api).patchNamespace({ name: namespace, body: { metadata: { labels: { [USE_WAYPOINT_LABEL]: name } } } }, merge);
    } catch (err) {
      throw apiError(`Waypoint ${namespace}/${name} is ${verb}, but namespace ${namespace} could not be labelled ${USE_WAYPOINT_LABEL}=${name}`, err);
    }
    process.stdout.write(`namespace ${namespace} labelled ${USE_WAYPOINT_LABEL}=${name}\n`);
  }
  return EXIT.ok;
}

async function remove(kc: KubeConfig, namespace: string, name: string): Promise<number> {
  try {
    await kc.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({ ...crd, namespace, name });
  } catch (err) {
    if (apiStatus(err) === 404) throw new AmbitError('AMBIT_ERR_CONFIG', `no Waypoint ${namespace}/${name} ('ambit waypoint list -A' lists them)`);
    throw apiError(`cannot delete Waypoint ${namespace}/${name}`, err);
  }
  process.stdout.write(`waypoint ${namespace}/${name} deleted\n`);
  const core = kc.makeApiClient(CoreV1Api);
  let ns: V1Namespace;
  try {
    ns = await core.readNamespace({ name: namespace });
  } catch (err) {
    throw apiError(`Waypoint ${namespace}/${name} is deleted, but namespace ${namespace} could not be read to un-enroll it`, err);
  }
  // Un-enrolled only if the label names this Waypoint: a namespace pointing elsewhere is left alone.
  if (ns.metadata?.labels?.[USE_WAYPOINT_LABEL] === name) {
    try {
      await core.patchNamespace({ name: namespace, body: { metadata: { labels: { [USE_WAYPOINT_LABEL]: null } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    } catch (err) {
      throw apiError(`Waypoint ${namespace}/${name} is deleted, but the label ${USE_WAYPOINT_LABEL} could not be taken off namespace ${namespace}`, err);
    }
    process.stdout.write(`namespace ${namespace}: label ${USE_WAYPOINT_LABEL} removed\n`);
  }
  return EXIT.ok;
}

/** One Waypoint as `list` shows it (and `-o json` carries). */
export interface WaypointRow {
  namespace: string;
  name: string;
  for: string;
  programmed: string;
  reason: string;
  message: string;
  /** The Services whose traffic goes through it (their own label, else their namespace's). */
  services: string[];
  /** Whether its namespace is labelled for it. */
  namespaceEnrolled: boolean;
}

export async function list(kc: KubeConfig, namespace: string | undefined): Promise<WaypointRow[]> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  let items: Waypoint[];
  let services: V1Service[];
  let namespaces: V1Namespace[];
  try {
    const res = (namespace ? await custom.listNamespacedCustomObject({ ...crd, namespace }) : await custom.listClusterCustomObject(crd)) as { items?: Waypoint[] };
    items = res.items ?? [];
    services = (namespace ? await core.listNamespacedService({ namespace }) : await core.listServiceForAllNamespaces()).items;
    namespaces = namespace ? [await core.readNamespace({ name: namespace }).catch(() => ({ metadata: { name: namespace } }) as V1Namespace)] : (await core.listNamespace()).items;
  } catch (err) {
    throw apiError('cannot list Waypoints', err);
  }
  const forOf = new Map(items.map((w) => [`${w.metadata.namespace}/${w.metadata.name}`, (w.spec?.for ?? WAYPOINT_DEFAULTS.for) as WaypointFor]));
  const nsByName = new Map(namespaces.map((n) => [n.metadata?.name ?? '', n]));
  // The controller's own binding rule (controller/model/workloads.ts), so list agrees with where traffic goes.
  const bound = services.map((s) => ({ s, w: serviceWaypoint(s as { metadata?: { namespace?: string; labels?: Record<string, string> } }, nsByName.get(s.metadata?.namespace ?? ''), (ns, n) => forOf.get(`${ns}/${n}`)) }));
  return items
    .map((w) => {
      const ns = w.metadata.namespace ?? '';
      const c = condition(w as { status?: { conditions?: [] } }, 'Programmed');
      return {
        namespace: ns,
        name: w.metadata.name,
        for: forOf.get(`${ns}/${w.metadata.name}`)!,
        programmed: c?.status ?? 'Unknown',
        reason: c?.reason ?? '',
        message: c?.message ?? 'no Programmed condition yet (is the controller running?)',
        services: bound.filter((b) => b.w?.namespace === ns && b.w.name === w.metadata.name).map((b) => `${b.s.metadata?.namespace}/${b.s.metadata?.name}`).sort(),
        namespaceEnrolled: nsByName.get(ns)?.metadata?.labels?.[USE_WAYPOINT_LABEL] === w.metadata.name,
      };
    })
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

export function renderList(rows: readonly WaypointRow[]): string {
  if (rows.length === 0) return "No Waypoints. 'ambit waypoint apply -n NAMESPACE --enroll-namespace' creates one.\n";
  return table([
    ['NAMESPACE', 'NAME', 'FOR', 'PROGRAMMED', 'ENROLLED NS', 'SERVICES', 'MESSAGE'],
    ...rows.map((r) => [r.namespace, r.name, r.for, r.programmed, r.namespaceEnrolled ? 'yes' : 'no', r.services.join(',') || '-', r.message]),
  ]);
}
