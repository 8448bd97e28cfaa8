import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { AmbitError } from '../../lib/errors.js';
import type { KubeObject } from '../../lib/k8s/types.js';
import { logger } from '../../lib/log.js';
import { withMounts, type BindMount, type ContainerSpec } from '../runtime.js';
import { automountsToken, containerArgv, containerEnv, containerMounts, volumeContent, type ContainerLike, type DataLookup, type PodSpecLike, type VolumeFile } from './pod-inputs.js';

const log = logger('lab', 'kubelet');

/** A pod the lab cannot start yet, for a reason the kubelet would report (CreateContainerConfigError, a missing volume source). */
export class PodConfigError extends AmbitError {
  constructor(message: string) {
    super('AMBIT_ERR_LAB_STATE', message);
    this.name = 'PodConfigError';
  }
}

export interface KubeletOptions {
  lookup: DataLookup;
  /** Mints a token bound to the pod (TokenRequest); audience '' is the API server's. */
  mintToken(pod: KubeObject, audience: string, expirationSeconds: number): { token: string; expiresAt: number };
  /** The API server's CA certificate (PEM), for the kube-api-access volume. */
  apiCaCert: string;
  /** KUBERNETES_SERVICE_HOST and _PORT: where in-cluster clients find the API server. */
  apiService: { host: string; port: number };
  /** The image's entrypoint for containers of the Ambit image (`node bin/ambit-component`). */
  ambitEntrypoint: readonly string[];
  /** Whether an image is Ambit's (the lab runs this checkout for it; any other image is ignored as for every lab pod). */
  isAmbitImage(image: string): boolean;
  /** Where a hostPath volume of `node` lives in the lab; undefined for paths the lab does not model. */
  hostPath(node: string, path: string): string | undefined;
  workingDir: string;
  now?: () => number;
}

interface TokenFile {
  file: string;
  audience: string;
  expirationSeconds: number;
  refreshAt: number;
}

interface Projection {
  pod: KubeObject;
  files: { dir: string; volume: string; file: VolumeFile }[];
  tokens: TokenFile[];
}

/**
 * The lab's kubelet for pods of the Ambit image (the chart's with `lab up --chart`, and in
 * either mode the Waypoint pods the controller writes): their containers get the env, argv and volumes the pod spec says,
 * volumes as real files bind-mounted at their mountPath in the container's private mount
 * namespace (the lab already gives each container one for /etc/hosts), so the process reads
 * exactly the paths the chart names. ConfigMap and Secret files follow their objects and
 * tokens are renewed at 80% of their lifetime, as a kubelet does.
 */
export class Kubelet {
  private readonly projections = new Map<string, Projection>();
  private readonly now: () => number;

  constructor(private readonly opts: KubeletOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Whether the lab's kubelet runs this pod (every container is of the Ambit image). */
  handles(pod: KubeObject): boolean {
    const cs = ((pod.spec ?? {}) as { containers?: { image?: string }[] }).containers ?? [];
    return cs.length > 0 && cs.every((c) => typeof c.image === 'string' && this.opts.isAmbitImage(c.image));
  }

  /** Projects the pod's volumes into `dir` and returns its containers; throws PodConfigError while a source is missing. */
  containers(pod: KubeObject, node: string, dir: string, serviceAccount: KubeObject | undefined): ContainerSpec[] {
    const spec = (pod.spec ?? {}) as PodSpecLike;
    const automount = automountsToken(pod, serviceAccount);
    const base = { KUBERNETES_SERVICE_HOST: this.opts.apiService.host, KUBERNETES_SERVICE_PORT: String(this.opts.apiService.port), KUBERNETES_SERVICE_PORT_HTTPS: String(this.opts.apiService.port) };
    const projection: Projection = { pod, files: [], tokens: [] };
    const mounted = new Map<string, string>();
    const out: ContainerSpec[] = [];
    for (const c of (spec.containers ?? []) as ContainerLike[]) {
      const env = containerEnv(pod, c, this.opts.lookup, base);
      if (!env.ok) throw new PodConfigError(`container ${c.name}: ${env.error}`);
      const plan = containerMounts(pod, c, automount);
      if (!plan.ok) throw new PodConfigError(`container ${c.name}: ${plan.error}`);
      const binds: BindMount[] = [];
      for (const m of plan.value) {
        let source = mounted.get(m.volume);
        if (source === undefined) {
          source = this.volumeSource(pod, node, dir, m.volume, projection);
          mounted.set(m.volume, source);
        }
        binds.push({ source, target: m.mountPath, readOnly: m.readOnly });
      }
      out.push({ name: c.name, argv: withMounts(binds, containerArgv(c, this.opts.ambitEntrypoint, env.value)), env: env.value, workingDir: this.opts.workingDir });
    }
    this.write(projection);
    this.projections.set(pod.metadata.uid ?? '', projection);
    return out;
  }

  private volumeSource(pod: KubeObject, node: string, dir: string, volume: string, projection: Projection): string {
    const content = volumeContent(pod, volume, this.opts.lookup, this.opts.apiCaCert);
    if (!content.ok) throw new PodConfigError(content.error);
    const v = content.value;
    if (v.kind === 'hostPath') {
      const path = this.opts.hostPath(node, v.path);
      if (path === undefined) throw new PodConfigError(`volume ${volume}: hostPath ${v.path} is not modelled by the lab (it maps /sys/fs/bpf and /sys/fs/cgroup per node)`);
      mkdirSync(path, { recursive: true });
      return path;
    }
    const vdir = join(dir, 'volumes', volume);
    mkdirSync(vdir, { recursive: true });
    if (v.kind === 'files') {
      for (const file of v.files) {
        projection.files.push({ dir: vdir, volume, file });
        if ('token' in file) projection.tokens.push({ file: join(vdir, file.path), audience: file.token.audience, expirationSeconds: file.token.expirationSeconds, refreshAt: 0 });
      }
    }
    return vdir;
  }

  /** Writes every file whose content changed, and tokens that are due, each replaced in one rename. */
  private write(p: Projection): void {
    for (const { dir, file } of p.files) {
      if ('token' in file) continue;
      writeAtomic(join(dir, file.path), file.content, file.mode);
    }
    for (const t of p.tokens) {
      if (this.now() < t.refreshAt) continue;
      const minted = this.opts.mintToken(p.pod, t.audience, t.expirationSeconds);
      writeAtomic(t.file, minted.token, 0o600);
      t.refreshAt = this.now() + 0.8 * (minted.expiresAt - this.now());
    }
  }

  /**
   * Follows the sources of running pods' volumes (the controller rotating the trust bundle in
   * its ConfigMap) and renews tokens; a source that went away leaves the files as they are.
   */
  refresh(): void {
    for (const [uid, p] of this.projections) {
      try {
        for (const entry of p.files) {
          if ('token' in entry.file) continue;
          const again = volumeContent(p.pod, entry.volume, this.opts.lookup, this.opts.apiCaCert);
          if (!again.ok || again.value.kind !== 'files') continue;
          const now = again.value.files.find((f) => f.path === entry.file.path && !('token' in f));
          if (now && 'content' in now && now.content !== entry.file.content) entry.file = now;
        }
        this.write(p);
      } catch (err) {
        log.warn({ pod: uid, err: (err as Error).message }, 'volume refresh failed');
      }
    }
  }

  forget(uid: string): void {
    this.projections.delete(uid);
  }
}

function writeAtomic(file: string, content: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true });
  try {
    if (readFileSync(file, 'utf8') === content) return;
  } catch {
    // not there yet
  }
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, file);
}

/** Maps a node's hostPath into the lab: `roots` names, per host folder, the lab folder standing for it on that node. */
export function mapHostPath(roots: Readonly<Record<string, string>>, path: string): string | undefined {
  for (const [host, lab] of Object.entries(roots)) {
    if (path === host) return lab;
    if (path.startsWith(`${host}/`)) return posix.join(lab, path.slice(host.length + 1));
  }
  return undefined;
}
