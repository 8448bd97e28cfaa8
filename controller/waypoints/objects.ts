import { posix } from 'node:path';
import { AMBIT_API_VERSION } from '../../lib/crds/common.js';
import { WAYPOINT_DEFAULTS } from '../../lib/crds/waypoint.js';
import { DEFAULT_ROOT_CA_FILE, ROOT_CA_KEY } from '../../lib/identity/index.js';
import type { KubeObject, OwnerReference } from '../../lib/k8s/types.js';
import { DATAPLANE_MODE_LABEL, DATAPLANE_MODE_NONE, USE_WAYPOINT_LABEL } from '../../lib/mesh/labels.js';
import { WAYPOINT_POD_LABEL } from '../model/index.js';

/**
 * What runs a Waypoint: a ServiceAccount, a Deployment and a Service, all
 * named after it, labelled `ambit.dev/waypoint=<name>` and controlled by it
 * (ownerReference). Pure functions: the objects the controller wants, and how
 * an object in the cluster differs from them.
 */

export const OWNED_KINDS = ['ServiceAccount', 'Deployment', 'Service'] as const;
export type OwnedKind = (typeof OWNED_KINDS)[number];

export const WAYPOINT_PORTS = Object.freeze({ hbone: 15008, admin: 15020 });
/** Longer than a waypoint's stop: the announce delay and the drain period. */
export const WAYPOINT_TERMINATION_GRACE_SECONDS = 30;

export const WAYPOINT_CONTAINER = 'waypoint';
/** The waypoint process's settings, as its Deployment hands them over. */
export const WAYPOINT_ENV = Object.freeze({
  controllerAddress: 'AMBIT_CONTROLLER_ADDRESS',
  controllerIdentity: 'AMBIT_CONTROLLER_IDENTITY',
  trustDomain: 'AMBIT_TRUST_DOMAIN',
  waypointName: 'AMBIT_WAYPOINT_NAME',
  podNamespace: 'AMBIT_POD_NAMESPACE',
  podName: 'AMBIT_POD_NAME',
  nodeName: 'AMBIT_NODE_NAME',
  podIp: 'AMBIT_POD_IP',
  controllerTokenFile: 'AMBIT_CONTROLLER_TOKEN_FILE',
  rootCaFile: 'AMBIT_ROOT_CA_FILE',
  tracingEndpoint: 'AMBIT_TRACING_ENDPOINT',
  tracingSamplePercent: 'AMBIT_TRACING_SAMPLE_PERCENT',
});

/**
 * The proxies' two volumes, at the node agent's paths (charts/ambit/templates/node-agent.yaml):
 * a projected token for the controller's TokenReview, and the trust bundle from the ConfigMap
 * that trust-bundle.ts keeps in the Waypoint's namespace.
 */
export const WAYPOINT_VOLUMES = Object.freeze({
  token: { name: 'controller-token', mountPath: '/var/run/secrets/ambit/tokens', file: 'controller-token' },
  rootCa: { name: 'root-ca', mountPath: posix.dirname(DEFAULT_ROOT_CA_FILE), file: ROOT_CA_KEY },
});
/** The token's lifetime, as the agent's; the kubelet renews it at 80% and a proxy rereads the file whenever it dials. */
export const WAYPOINT_TOKEN_SECONDS = 3600;
/** The image's user (the Dockerfile's `USER 65532:65532`), as the controller's pod runs it. */
export const WAYPOINT_UID = 65532;

/** What a waypoint container asks of its node (the chart's `waypoint.resources`). */
export interface WaypointResources {
  requests?: Readonly<Record<string, string>>;
  limits?: Readonly<Record<string, string>>;
}

/** What the controller's configuration decides about every waypoint. */
export interface WaypointTemplate {
  image: string;
  /** `host:port` of the controller's config stream. */
  controllerAddress: string;
  /** The SPIFFE ID on the controller's serving certificate, which the proxies check. */
  controllerIdentity: string;
  trustDomain: string;
  /** The audience of the projected token the proxies present: one the controller's TokenReview asks for. */
  tokenAudience: string;
  /** The trust bundle's ConfigMap in the Waypoint's namespace (a pod mounts only its own namespace's). */
  rootCaConfigMap: string;
  resources: WaypointResources;
  /** Where the proxies export spans; none when unset. */
  tracing?: { endpoint: string | undefined; samplePercent: number };
}

/** The Waypoint an object set is built for. */
export interface WaypointTarget {
  namespace: string;
  name: string;
  uid: string;
  replicas: number;
}

/** The target of a Waypoint object; replicas defaulted (the object must have passed validateWaypoint). */
export function waypointTarget(wp: { metadata?: { namespace?: string; name?: string; uid?: string }; spec?: unknown }): WaypointTarget {
  const replicas = (wp.spec as { replicas?: unknown } | undefined)?.replicas;
  return {
    namespace: wp.metadata?.namespace ?? 'default',
    name: wp.metadata?.name ?? '',
    uid: wp.metadata?.uid ?? '',
    replicas: typeof replicas === 'number' ? replicas : WAYPOINT_DEFAULTS.replicas,
  };
}

export function ownerReference(w: Pick<WaypointTarget, 'name' | 'uid'>): OwnerReference {
  return { apiVersion: AMBIT_API_VERSION, kind: 'Waypoint', name: w.name, uid: w.uid, controller: true, blockOwnerDeletion: true };
}

/** The controlling owner of an object, if it has one. */
export function controllerOf(obj: { metadata?: { ownerReferences?: unknown } }): OwnerReference | undefined {
  const refs = obj.metadata?.ownerReferences;
  return Array.isArray(refs) ? (refs as OwnerReference[]).find((r) => r?.controller === true) : undefined;
}

/** Whether an owner reference points at a Waypoint (any version of the ambit.dev group). */
export function isWaypointRef(ref: OwnerReference | undefined): ref is OwnerReference {
  return ref?.kind === 'Waypoint' && typeof ref.apiVersion === 'string' && ref.apiVersion.startsWith('ambit.dev/');
}

/** The three objects of a Waypoint, as the controller wants them. */
export function desiredObjects(w: WaypointTarget, t: WaypointTemplate): Record<OwnedKind, KubeObject> {
  const selector = { [WAYPOINT_POD_LABEL]: w.name };
  const metadata = (extra: Record<string, string> = {}) => ({
    name: w.name,
    namespace: w.namespace,
    labels: { ...selector, ...extra },
    ownerReferences: [ownerReference(w)],
  });
  const fieldRef = (fieldPath: string) => ({ valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });
  const { token, rootCa } = WAYPOINT_VOLUMES;
  return {
    ServiceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: metadata() },
    Deployment: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: metadata(),
      spec: {
        replicas: w.replicas,
        selector: { matchLabels: selector },
        template: {
          // A waypoint's own traffic is never captured: it is what the node agents send traffic to.
          metadata: { labels: { ...selector, [DATAPLANE_MODE_LABEL]: DATAPLANE_MODE_NONE } },
          spec: {
            serviceAccountName: w.name,
            // The proxies call no Kubernetes API (everything comes from the controller): their only
            // token is the projected one for the controller's audience, below.
            automountServiceAccountToken: false,
            // A stopping proxy keeps serving while agents learn it is gone, then drains (waypoint/app.ts).
            terminationGracePeriodSeconds: WAYPOINT_TERMINATION_GRACE_SECONDS,
            securityContext: { runAsNonRoot: true, runAsUser: WAYPOINT_UID, runAsGroup: WAYPOINT_UID, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: WAYPOINT_CONTAINER,
                image: t.image,
                args: ['waypoint'],
                ports: [
                  { name: 'hbone', containerPort: WAYPOINT_PORTS.hbone, protocol: 'TCP' },
                  { name: 'admin', containerPort: WAYPOINT_PORTS.admin, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/ready', port: WAYPOINT_PORTS.admin } },
                env: [
                  { name: WAYPOINT_ENV.controllerAddress, value: t.controllerAddress },
                  { name: WAYPOINT_ENV.controllerIdentity, value: t.controllerIdentity },
                  { name: WAYPOINT_ENV.trustDomain, value: t.trustDomain },
                  { name: WAYPOINT_ENV.waypointName, value: w.name },
                  { name: WAYPOINT_ENV.podNamespace, ...fieldRef('metadata.namespace') },
                  { name: WAYPOINT_ENV.podName, ...fieldRef('metadata.name') },
                  { name: WAYPOINT_ENV.nodeName, ...fieldRef('spec.nodeName') },
                  { name: WAYPOINT_ENV.podIp, ...fieldRef('status.podIP') },
                  { name: WAYPOINT_ENV.controllerTokenFile, value: posix.join(token.mountPath, token.file) },
                  { name: WAYPOINT_ENV.rootCaFile, value: posix.join(rootCa.mountPath, rootCa.file) },
                  ...(t.tracing?.endpoint
                    ? [
                        { name: WAYPOINT_ENV.tracingEndpoint, value: t.tracing.endpoint },
                        { name: WAYPOINT_ENV.tracingSamplePercent, value: String(t.tracing.samplePercent) },
                      ]
                    : []),
                ],
                resources: t.resources,
                // Unprivileged: it listens on ports above 1024 and writes no files.
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                volumeMounts: [
                  { name: token.name, mountPath: token.mountPath, readOnly: true },
                  { name: rootCa.name, mountPath: rootCa.mountPath, readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: token.name, projected: { sources: [{ serviceAccountToken: { path: token.file, audience: t.tokenAudience, expirationSeconds: WAYPOINT_TOKEN_SECONDS } }] } },
              { name: rootCa.name, configMap: { name: t.rootCaConfigMap } },
            ],
          },
        },
      },
    },
    Service: {
      apiVersion: 'v1',
      kind: 'Service',
      // Traffic to a waypoint is never sent through a waypoint, whatever its namespace says.
      metadata: metadata({ [USE_WAYPOINT_LABEL]: 'none' }),
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ name: 'hbone', port: WAYPOINT_PORTS.hbone, targetPort: WAYPOINT_PORTS.hbone, protocol: 'TCP' }],
      },
    },
  };
}

/**
 * Maps that must equal the desired one, not merely contain it: a selector with
 * a key added selects other pods.
 */
const EXACT = new Set(['spec.selector', 'spec.selector.matchLabels']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** The parts of a desired object the controller holds others to: its labels and its spec (ownership is checked apart). */
function held(desired: KubeObject): Record<string, unknown> {
  const out: Record<string, unknown> = { metadata: { labels: desired.metadata.labels ?? {} } };
  if (desired.spec !== undefined) out.spec = desired.spec;
  return out;
}

/**
 * Where `actual` differs from what the controller sets (its labels and spec),
 * as field paths. Fields the controller does not set (what the API server
 * defaults, labels others add) are left alone; a list must have the same
 * length and each element must hold what the desired one sets.
 */
export function drift(desired: KubeObject, actual: unknown): string[] {
  const out: string[] = [];
  const walk = (want: unknown, have: unknown, path: string): void => {
    if (Array.isArray(want)) {
      if (!Array.isArray(have) || have.length !== want.length) {
        out.push(path);
        return;
      }
      want.forEach((w, i) => walk(w, have[i], `${path}[${i}]`));
    } else if (isObject(want)) {
      if (!isObject(have)) {
        out.push(path);
        return;
      }
      if (EXACT.has(path) && Object.keys(have).filter((k) => have[k] !== undefined).length !== Object.keys(want).length) {
        out.push(path);
        return;
      }
      for (const [k, w] of Object.entries(want)) walk(w, have[k], path ? `${path}.${k}` : k);
    } else if (want !== have) {
      out.push(path);
    }
  };
  walk(held(desired), actual, '');
  return out;
}

/**
 * `current` with what the controller sets put back: its labels and owner
 * reference added, its spec merged in (maps merged key by key, lists and
 * values replaced, selectors replaced whole). What others set and the API
 * server filled in (a Service's clusterIP) is kept, and so is the
 * resourceVersion, so a concurrent change makes the write a 409.
 */
export function withDesired(current: KubeObject, desired: KubeObject): KubeObject {
  const merge = (have: unknown, want: unknown, path: string): unknown => {
    if (!isObject(want) || !isObject(have) || EXACT.has(path)) return want;
    const out: Record<string, unknown> = { ...have };
    for (const [k, w] of Object.entries(want)) out[k] = merge(have[k], w, path ? `${path}.${k}` : k);
    return out;
  };
  const ours = desired.metadata.ownerReferences ?? [];
  const others = ((current.metadata.ownerReferences ?? []) as OwnerReference[]).filter((r) => !r.controller && !ours.some((o) => o.uid === r.uid));
  const next: KubeObject = {
    ...current,
    apiVersion: desired.apiVersion,
    kind: desired.kind,
    metadata: {
      ...current.metadata,
      labels: { ...(current.metadata.labels ?? {}), ...(desired.metadata.labels ?? {}) },
      ownerReferences: [...ours, ...others],
    },
  };
  if (desired.spec !== undefined) next.spec = merge(current.spec, desired.spec, 'spec');
  return next;
}
