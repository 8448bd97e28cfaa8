import { posix } from 'node:path';
import type { KubeObject } from '../../lib/k8s/types.js';

/**
 * What the kubelet makes of a pod spec before it starts a container, as pure functions the
 * lab's kubelet (kubelet.ts) and its tests share: the environment (values, downward API
 * fieldRefs, ConfigMap and Secret keys, `$(VAR)` references), the argv (the image's
 * entrypoint unless `command` replaces it), and which volume is mounted where, with the
 * files each ConfigMap, Secret and projected volume holds. Expected failures (a missing
 * ConfigMap, a field the lab cannot provide) are values: the kubelet keeps the pod pending
 * and says why, as CreateContainerConfigError does.
 */

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };
const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = <T>(error: string): Result<T> => ({ ok: false, error });

/** Reads ConfigMaps and Secrets (Secret data already base64-decoded) in the pod's namespace. */
export interface DataLookup {
  configMap(namespace: string, name: string): Record<string, string> | undefined;
  secret(namespace: string, name: string): Record<string, string> | undefined;
}

interface KeyRef {
  name?: string;
  key: string;
  optional?: boolean;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; configMapKeyRef?: KeyRef; secretKeyRef?: KeyRef; resourceFieldRef?: { resource: string } };
}
interface EnvFrom {
  prefix?: string;
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
}
export interface ContainerLike {
  name: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: EnvFrom[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
}
interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}
export interface VolumeLike {
  name: string;
  configMap?: { name: string; items?: KeyToPath[]; optional?: boolean; defaultMode?: number };
  secret?: { secretName: string; items?: KeyToPath[]; optional?: boolean; defaultMode?: number };
  projected?: { sources: ProjectionLike[]; defaultMode?: number };
  emptyDir?: object;
  hostPath?: { path: string; type?: string };
  downwardAPI?: { items: { path: string; fieldRef?: { fieldPath: string } }[] };
}
interface ProjectionLike {
  serviceAccountToken?: { path: string; audience?: string; expirationSeconds?: number };
  configMap?: { name: string; items?: KeyToPath[]; optional?: boolean };
  secret?: { name: string; items?: KeyToPath[]; optional?: boolean };
  downwardAPI?: { items: { path: string; fieldRef?: { fieldPath: string } }[] };
}
export interface PodSpecLike {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  nodeName?: string;
  hostNetwork?: boolean;
  containers?: ContainerLike[];
  volumes?: VolumeLike[];
}

/** The volume a kubelet adds to every pod that automounts its token (kube-api-access-*). */
export const KUBE_API_ACCESS_VOLUME = 'kube-api-access';
export const KUBE_API_ACCESS_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The kubelet's token lifetime for it (3607 s: one hour and a bit, so it differs from user-requested ones). */
export const KUBE_API_TOKEN_SECONDS = 3607;
/** A projected token's default lifetime when the volume names none. */
const DEFAULT_TOKEN_SECONDS = 3600;

const specOf = (pod: KubeObject): PodSpecLike => (pod.spec ?? {}) as PodSpecLike;
const statusOf = (pod: KubeObject): { hostIP?: string; podIP?: string } => (pod.status ?? {}) as { hostIP?: string; podIP?: string };

/** The downward API: the fields a fieldRef may name (metadata.labels['k'] and annotations['k'] included). */
export function fieldRefValue(pod: KubeObject, fieldPath: string): Result<string> {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m) return ok((m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[m[2]!] ?? '');
  const status = statusOf(pod);
  const values: Record<string, string | undefined> = {
    'metadata.name': pod.metadata.name,
    'metadata.namespace': pod.metadata.namespace ?? 'default',
    'metadata.uid': pod.metadata.uid,
    'spec.nodeName': specOf(pod).nodeName,
    'spec.serviceAccountName': specOf(pod).serviceAccountName ?? 'default',
    'status.hostIP': status.hostIP,
    'status.hostIPs': status.hostIP,
    'status.podIP': status.podIP,
    'status.podIPs': status.podIP,
  };
  if (!(fieldPath in values)) return fail(`fieldRef ${fieldPath} is not supported by the lab's kubelet`);
  const v = values[fieldPath];
  return v === undefined ? fail(`fieldRef ${fieldPath} has no value yet`) : ok(v);
}

/** `$(VAR)` is replaced by VAR's value when VAR is defined, `$$` escapes, anything else stays (Kubernetes' expansion). */
export function expandRefs(s: string, env: Readonly<Record<string, string>>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => (whole === '$$' ? '$' : name !== undefined && name in env ? env[name]! : whole));
}

function keyRef(kind: 'ConfigMap' | 'Secret', ref: KeyRef, data: Record<string, string> | undefined): Result<string | undefined> {
  if (data === undefined) return ref.optional ? ok(undefined) : fail(`${kind.toLowerCase()} "${ref.name}" not found`);
  if (!(ref.key in data)) return ref.optional ? ok(undefined) : fail(`couldn't find key ${ref.key} in ${kind} ${ref.name}`);
  return ok(data[ref.key]);
}

/**
 * A container's environment in the kubelet's order: the kubelet's own service variables
 * (`base`), then envFrom, then env, each value able to reference those before it.
 */
export function containerEnv(pod: KubeObject, c: ContainerLike, lookup: DataLookup, base: Readonly<Record<string, string>> = {}): Result<Record<string, string>> {
  const ns = pod.metadata.namespace ?? 'default';
  const env: Record<string, string> = { ...base };
  for (const from of c.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const data = from.configMapRef ? lookup.configMap(ns, ref.name) : lookup.secret(ns, ref.name);
    if (data === undefined) {
      if (ref.optional) continue;
      return fail(`${from.configMapRef ? 'configmap' : 'secret'} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(data)) env[`${from.prefix ?? ''}${k}`] = v;
  }
  for (const e of c.env ?? []) {
    const from = e.valueFrom;
    let value: Result<string | undefined>;
    if (!from) value = ok(expandRefs(e.value ?? '', env));
    else if (from.fieldRef) value = fieldRefValue(pod, from.fieldRef.fieldPath);
    else if (from.configMapKeyRef) value = keyRef('ConfigMap', from.configMapKeyRef, lookup.configMap(ns, from.configMapKeyRef.name ?? ''));
    else if (from.secretKeyRef) value = keyRef('Secret', from.secretKeyRef, lookup.secret(ns, from.secretKeyRef.name ?? ''));
    else value = fail(`env ${e.name}: resourceFieldRef is not supported by the lab's kubelet`);
    if (!value.ok) return fail(`env ${e.name}: ${value.error}`);
    if (value.value !== undefined) env[e.name] = value.value;
  }
  return ok(env);
}

/** `command` replaces the image's entrypoint, `args` its default arguments; both expand `$(VAR)`. */
export function containerArgv(c: ContainerLike, entrypoint: readonly string[], env: Readonly<Record<string, string>>): string[] {
  const head = c.command ? c.command.map((s) => expandRefs(s, env)) : [...entrypoint];
  return [...head, ...(c.args ?? []).map((s) => expandRefs(s, env))];
}

/** Whether the kubelet mounts the API token: the pod's own setting wins over its ServiceAccount's. */
export function automountsToken(pod: KubeObject, serviceAccount: KubeObject | undefined): boolean {
  const own = specOf(pod).automountServiceAccountToken;
  if (own !== undefined) return own;
  return (serviceAccount as { automountServiceAccountToken?: boolean } | undefined)?.automountServiceAccountToken !== false;
}

export interface MountPlan {
  volume: string;
  mountPath: string;
  readOnly: boolean;
}

/** Where a container's volumes go; the API token volume is added unless it mounts that path itself or automount is off. */
export function containerMounts(pod: KubeObject, c: ContainerLike, automount: boolean): Result<MountPlan[]> {
  const volumes = new Set((specOf(pod).volumes ?? []).map((v) => v.name));
  const mounts: MountPlan[] = [];
  for (const m of c.volumeMounts ?? []) {
    if (!volumes.has(m.name)) return fail(`volumeMount ${m.name}: no such volume in the pod`);
    if (m.subPath) return fail(`volumeMount ${m.name}: subPath is not supported by the lab's kubelet`);
    if (!posix.isAbsolute(m.mountPath)) return fail(`volumeMount ${m.name}: mountPath ${m.mountPath} must be absolute`);
    mounts.push({ volume: m.name, mountPath: posix.normalize(m.mountPath), readOnly: m.readOnly === true });
  }
  if (automount && !mounts.some((m) => m.mountPath === KUBE_API_ACCESS_PATH)) mounts.push({ volume: KUBE_API_ACCESS_VOLUME, mountPath: KUBE_API_ACCESS_PATH, readOnly: true });
  // Parents before children, so a nested mount is not hidden by its parent's.
  return ok(mounts.sort((a, b) => a.mountPath.length - b.mountPath.length));
}

/** One file of a ConfigMap, Secret, downward API or token volume, relative to the volume. */
export type VolumeFile = { path: string; content: string; mode: number } | { path: string; token: { audience: string; expirationSeconds: number }; mode: number };

export type VolumeContent = { kind: 'files'; files: VolumeFile[] } | { kind: 'emptyDir' } | { kind: 'hostPath'; path: string };

function keyFiles(kind: 'ConfigMap' | 'Secret', name: string, data: Record<string, string> | undefined, items: KeyToPath[] | undefined, optional: boolean | undefined, mode: number): Result<VolumeFile[]> {
  if (data === undefined) return optional ? ok([]) : fail(`${kind.toLowerCase()} "${name}" not found`);
  if (!items) return ok(Object.entries(data).map(([k, v]) => ({ path: k, content: v, mode })));
  const out: VolumeFile[] = [];
  for (const it of items) {
    if (!(it.key in data)) {
      if (optional) continue;
      return fail(`configmap references non-existent config key: ${it.key}`);
    }
    out.push({ path: it.path, content: data[it.key]!, mode: it.mode ?? mode });
  }
  return ok(out);
}

function downwardFiles(pod: KubeObject, items: { path: string; fieldRef?: { fieldPath: string } }[], mode: number): Result<VolumeFile[]> {
  const out: VolumeFile[] = [];
  for (const it of items) {
    if (!it.fieldRef) return fail(`downwardAPI ${it.path}: only fieldRef is supported by the lab's kubelet`);
    const v = fieldRefValue(pod, it.fieldRef.fieldPath);
    if (!v.ok) return v;
    out.push({ path: it.path, content: v.value, mode });
  }
  return ok(out);
}

/**
 * What a volume holds. The API token volume (kube-api-access) is the kubelet's: a token for
 * the API server's audience, the API server's CA (`caCert`) and the pod's namespace.
 */
export function volumeContent(pod: KubeObject, name: string, lookup: DataLookup, caCert: string): Result<VolumeContent> {
  const ns = pod.metadata.namespace ?? 'default';
  if (name === KUBE_API_ACCESS_VOLUME && !(specOf(pod).volumes ?? []).some((v) => v.name === name)) {
    return ok({
      kind: 'files',
      files: [
        { path: 'token', token: { audience: '', expirationSeconds: KUBE_API_TOKEN_SECONDS }, mode: 0o644 },
        { path: 'ca.crt', content: caCert, mode: 0o644 },
        { path: 'namespace', content: ns, mode: 0o644 },
      ],
    });
  }
  const v = (specOf(pod).volumes ?? []).find((x) => x.name === name);
  if (!v) return fail(`no volume ${name}`);
  if (v.emptyDir) return ok({ kind: 'emptyDir' });
  if (v.hostPath) return ok({ kind: 'hostPath', path: posix.normalize(v.hostPath.path) });
  const wrap = (r: Result<VolumeFile[]>): Result<VolumeContent> => (r.ok ? ok({ kind: 'files', files: r.value }) : fail(`volume ${name}: ${r.error}`));
  if (v.configMap) return wrap(keyFiles('ConfigMap', v.configMap.name, lookup.configMap(ns, v.configMap.name), v.configMap.items, v.configMap.optional, v.configMap.defaultMode ?? 0o644));
  if (v.secret) return wrap(keyFiles('Secret', v.secret.secretName, lookup.secret(ns, v.secret.secretName), v.secret.items, v.secret.optional, v.secret.defaultMode ?? 0o644));
  if (v.downwardAPI) return wrap(downwardFiles(pod, v.downwardAPI.items, 0o644));
  if (v.projected) {
    const mode = v.projected.defaultMode ?? 0o644;
    const files: VolumeFile[] = [];
    for (const s of v.projected.sources ?? []) {
      let r: Result<VolumeFile[]>;
      if (s.serviceAccountToken) {
        const t = s.serviceAccountToken;
        // An empty audience means the API server's own, as in a TokenRequest.
        r = ok([{ path: t.path, token: { audience: t.audience ?? '', expirationSeconds: t.expirationSeconds ?? DEFAULT_TOKEN_SECONDS }, mode: 0o600 }]);
      } else if (s.configMap) r = keyFiles('ConfigMap', s.configMap.name, lookup.configMap(ns, s.configMap.name), s.configMap.items, s.configMap.optional, mode);
      else if (s.secret) r = keyFiles('Secret', s.secret.name, lookup.secret(ns, s.secret.name), s.secret.items, s.secret.optional, mode);
      else if (s.downwardAPI) r = downwardFiles(pod, s.downwardAPI.items, mode);
      else r = fail('a projection the lab does not know (clusterTrustBundle?)');
      if (!r.ok) return wrap(r);
      files.push(...r.value);
    }
    return ok({ kind: 'files', files });
  }
  return fail(`volume ${name}: its type is not supported by the lab's kubelet (configMap, secret, projected, downwardAPI, emptyDir, hostPath are)`);
}
