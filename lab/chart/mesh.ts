import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../../lib/k8s/types.js';
import type { AuditEntry, ObjectStore, TokenRegistry } from '../apiserver/index.js';
import type { LabPaths } from '../paths.js';
import { isPodReady } from '../workloads.js';
import { Kubelet, mapHostPath } from './kubelet.js';

/** The Ambit image (the chart's default repository): the lab runs this checkout's build for it. */
export const AMBIT_IMAGE_REPOSITORY = 'ghcr.io/ambit-mesh/ambit';
/** Where in-cluster clients reach the lab API server over TLS (KUBERNETES_SERVICE_PORT). */
export const API_TLS_PORT = 6444;

/** The repository of an image reference (no tag, no digest). */
export function imageRepository(image: string): string {
  const noDigest = image.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** The images a rendered chart runs (the containers of its workloads, hooks included), which the lab plays as the Ambit image. */
export function chartImages(objects: readonly KubeObject[]): Set<string> {
  const repos = new Set([AMBIT_IMAGE_REPOSITORY]);
  for (const o of objects) {
    const spec = (o.spec ?? {}) as { containers?: { image?: string }[]; template?: { spec?: { containers?: { image?: string }[] } } };
    const containers = o.kind === 'Pod' ? spec.containers : ['Deployment', 'DaemonSet', 'StatefulSet', 'Job'].includes(o.kind) ? spec.template?.spec?.containers : undefined;
    for (const c of containers ?? []) if (c.image) repos.add(imageRepository(c.image));
  }
  return repos;
}

/**
 * A self-signed serving certificate for the API server's TLS listener, made once per lab with
 * openssl: in-cluster clients (client-node's loadFromCluster) only speak HTTPS and verify the
 * server against the ca.crt of their token volume, which is this certificate.
 */
export function apiServingCert(dir: string, ip: string): { cert: string; key: string } {
  const cert = join(dir, 'apiserver.crt');
  const key = join(dir, 'apiserver.key');
  if (!existsSync(cert) || !existsSync(key)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30',
      '-subj', '/CN=ambit-lab-apiserver', '-addext', `subjectAltName=IP:${ip},DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local`,
      '-keyout', key, '-out', cert,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

/** Appends each service-account request decision to the lab's audit log, one JSON object a line (what the RBAC comparison test reads). */
export function auditWriter(file: string): (e: AuditEntry) => void {
  mkdirSync(join(file, '..'), { recursive: true });
  return (e) => appendFileSync(file, `${JSON.stringify(e)}\n`);
}

export interface LabKubeletDeps {
  paths: LabPaths;
  cgroup2: string;
  store: ObjectStore;
  tokens: TokenRegistry;
  images: ReadonlySet<string>;
  apiCaCert: string;
  apiHost: string;
  nodeFlags: readonly string[];
}

/**
 * The lab's kubelet for pods of the Ambit image: the chart's (`lab up --chart`) and, in either
 * mode, the Waypoints' the controller writes. hostPath volumes map to the node's share of the host:
 * `/sys/fs/bpf` to the node's bpffs folder (which `lab down` removes with the lab) and
 * `/sys/fs/cgroup` to the node's cgroup root, below which the lab lays pods out as the
 * kubelet's cgroupfs driver does (`kubepods/pod<uid>`).
 */
export function labKubelet(d: LabKubeletDeps): Kubelet {
  const decode = (data: Record<string, string> | undefined) => data && Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  return new Kubelet({
    lookup: {
      configMap: (ns, name) => {
        const cm = d.store.tryGet('configmaps', ns, name) as { data?: Record<string, string> } | undefined;
        return cm ? (cm.data ?? {}) : undefined;
      },
      secret: (ns, name) => {
        const s = d.store.tryGet('secrets', ns, name) as { data?: Record<string, string>; stringData?: Record<string, string> } | undefined;
        return s ? { ...(decode(s.data) ?? {}), ...(s.stringData ?? {}) } : undefined;
      },
    },
    mintToken: (pod, audience, expirationSeconds) => {
      const ns = pod.metadata.namespace ?? 'default';
      const sa = (pod.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName || 'default';
      const res = d.tokens.request(ns, sa, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { ...(audience ? { audiences: [audience] } : {}), expirationSeconds, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid } },
      });
      return { token: res.status.token, expiresAt: Date.parse(res.status.expirationTimestamp) };
    },
    apiCaCert: d.apiCaCert,
    apiService: { host: d.apiHost, port: API_TLS_PORT },
    ambitEntrypoint: [process.execPath, '--enable-source-maps', ...d.nodeFlags, join(d.paths.repoRoot, 'bin', 'ambit-component')],
    isAmbitImage: (image) => d.images.has(imageRepository(image)),
    hostPath: (node, path) => mapHostPath({ '/sys/fs/bpf': d.paths.bpfPinDir(node), '/sys/fs/cgroup': d.paths.nodeHostCgroup(d.cgroup2, node) }, path),
    workingDir: d.paths.repoRoot,
  });
}

/**
 * The chart's workloads are up and rolled out, as `kubectl rollout status` sees it: every
 * Deployment's replicas updated and ready with no old pod left, every DaemonSet's nodes
 * running an updated, available pod, each status written for the current generation.
 */
export function chartWorkloadsReady(store: ObjectStore, namespace: string): { ready: boolean; waiting: string[] } {
  const waiting: string[] = [];
  const observed = (o: KubeObject) => Number((o.status as { observedGeneration?: number } | undefined)?.observedGeneration ?? 0) >= Number(o.metadata['generation'] ?? 0);
  for (const d of store.list('deployments', { namespace }).items) {
    const want = (d.spec as { replicas?: number } | undefined)?.replicas ?? 1;
    const s = (d.status ?? {}) as { readyReplicas?: number; updatedReplicas?: number; replicas?: number };
    const [ready, updated, total] = [s.readyReplicas ?? 0, s.updatedReplicas ?? 0, s.replicas ?? 0];
    if (!observed(d) || ready < want || updated < want || total > want) waiting.push(`Deployment ${namespace}/${d.metadata.name} (${updated}/${want} updated, ${ready} ready${total > updated ? `, ${total - updated} old` : ''})`);
  }
  for (const ds of store.list('daemonsets', { namespace }).items) {
    const s = (ds.status ?? {}) as { desiredNumberScheduled?: number; numberAvailable?: number; updatedNumberScheduled?: number };
    const desired = s.desiredNumberScheduled ?? 0;
    if (!observed(ds) || desired === 0 || (s.updatedNumberScheduled ?? 0) < desired || (s.numberAvailable ?? 0) < desired) {
      waiting.push(`DaemonSet ${namespace}/${ds.metadata.name} (${s.updatedNumberScheduled ?? 0}/${desired || '?'} updated, ${s.numberAvailable ?? 0} available)`);
    }
  }
  const pending = store.list('pods', { namespace }).items.filter((p) => !isPodReady(p)).map((p) => {
    const c = ((p.status as { conditions?: { reason?: string; message?: string }[] } | undefined)?.conditions ?? []).find((x) => x.reason === 'CreateContainerConfigError');
    return c ? `pod ${namespace}/${p.metadata.name}: ${c.message}` : undefined;
  });
  waiting.push(...pending.filter((x): x is string => x !== undefined));
  return { ready: waiting.length === 0, waiting };
}
