import { AppsV1Api, CoreV1Api, type KubeConfig, type V1ConfigMap, type V1OwnerReference } from '@kubernetes/client-node';
import { AmbitError } from '../../lib/errors.js';
import { ROOT_CA_KEY } from '../../lib/identity/index.js';
import { exponentialBackoff, type Backoff } from '../../lib/backoff.js';
import type { Logger } from '../../lib/log.js';
import { realTimers, type Timers } from '../../lib/xds/timers.js';

/**
 * Publishes the trust bundle out of band, as istiod publishes istio-ca-root-cert: a
 * ConfigMap (`ambit-root-ca`, key `root-cert.pem`) in the controller's namespace that the
 * node-agent DaemonSet mounts. Agents never take a root from the control channel, so this
 * is how they learn the roots, including both during a root rotation.
 *
 * Every replica publishes the bundle of the CA store they share; the rotation procedure
 * changes the bundle so that the versions of two replicas mid-rollout are the same set of
 * roots, or differ only by a root nobody signs with yet or anymore (docs/operations.md).
 */

/** Where the bundle goes. */
export interface BundleSink {
  readonly describe: string;
  /** Makes the published bundle `pem`; says whether that changed anything. Throws AMBIT_ERR_API. */
  write(pem: string): Promise<'created' | 'updated' | 'unchanged'>;
}

/**
 * The ConfigMap `namespace/name`, key `root-cert.pem`, through the Kubernetes API.
 *
 * With `ownerDeployment` (the controller's own Deployment, which the chart names) the
 * ConfigMap is owned by it, so the garbage collector deletes the bundle with the controller
 * (`helm uninstall`), including a copy a replica still shutting down writes after the
 * uninstall hook deleted it: that copy names a Deployment that is gone. Without one (a
 * controller run by hand) it has no owner.
 */
export function configMapBundleSink(kc: KubeConfig, namespace: string, name: string, ownerDeployment?: string): BundleSink {
  const api = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const describe = `ConfigMap ${namespace}/${name}`;
  const failed = (verb: string, err: unknown) =>
    new AmbitError('AMBIT_ERR_API', `cannot ${verb} ${describe}: ${(err as Error).message}; the controller needs RBAC to get, create and update configmaps in its namespace`, { cause: err });
  const owners = async (): Promise<V1OwnerReference[]> => {
    if (!ownerDeployment) return [];
    try {
      const d = await apps.readNamespacedDeployment({ namespace, name: ownerDeployment });
      return [{ apiVersion: 'apps/v1', kind: 'Deployment', name: ownerDeployment, uid: d.metadata!.uid! }];
    } catch (err) {
      // Gone (being uninstalled) or never there: no owner, and nothing to wait for.
      if ((err as { code?: number }).code === 404) return [];
      throw new AmbitError('AMBIT_ERR_API', `cannot read Deployment ${namespace}/${ownerDeployment}, the trust bundle's owner: ${(err as Error).message}; the controller needs RBAC to get deployments`, { cause: err });
    }
  };
  return {
    describe,
    write: async (pem) => {
      let existing: V1ConfigMap | undefined;
      try {
        existing = await api.readNamespacedConfigMap({ namespace, name });
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw failed('read', err);
      }
      const ownerReferences = await owners();
      const ownedAlike = (existing?.metadata?.ownerReferences ?? []).map((o) => o.uid).join() === ownerReferences.map((o) => o.uid).join();
      if (existing?.data?.[ROOT_CA_KEY] === pem && ownedAlike) return 'unchanged';
      const body: V1ConfigMap = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name,
          namespace,
          labels: { 'app.kubernetes.io/part-of': 'ambit' },
          ...(ownerReferences.length > 0 ? { ownerReferences } : {}),
          // A concurrent writer makes the replace a 409; the publisher retries.
          ...(existing?.metadata?.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
        },
        data: { [ROOT_CA_KEY]: pem },
      };
      try {
        if (!existing) {
          await api.createNamespacedConfigMap({ namespace, body });
          return 'created';
        }
        await api.replaceNamespacedConfigMap({ namespace, name, body });
        return 'updated';
      } catch (err) {
        throw failed(existing ? 'update' : 'create', err);
      }
    },
  };
}

export interface BundlePublisherOptions {
  sink: BundleSink;
  pem: string;
  log: Logger;
  /** After a success, check again this often (someone may edit or delete it). Default 60 s. */
  resyncMs?: number;
  backoff?: Backoff;
  timers?: Timers;
}

/** Keeps the sink holding the bundle: now, again after failures (with backoff), and every `resyncMs`. */
export class BundlePublisher {
  private readonly timers: Timers;
  private readonly backoff: Backoff;
  private timer: unknown;
  private stopped = false;
  private published = false;
  private markPublished!: () => void;
  /** Resolves once the bundle has been written (or found in place) once. */
  readonly firstPublished = new Promise<void>((r) => (this.markPublished = r));

  constructor(private readonly o: BundlePublisherOptions) {
    this.timers = o.timers ?? realTimers;
    this.backoff = o.backoff ?? exponentialBackoff(500, 30_000);
    void this.run();
  }

  get isPublished(): boolean {
    return this.published;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    let next: number;
    try {
      const result = await this.o.sink.write(this.o.pem);
      if (result !== 'unchanged' || !this.published) this.o.log.info({ to: this.o.sink.describe, result }, 'trust bundle published');
      this.published = true;
      this.markPublished();
      this.backoff.reset();
      next = this.o.resyncMs ?? 60_000;
    } catch (err) {
      next = this.backoff.next();
      this.o.log.warn({ code: (err as AmbitError).code, err: (err as Error).message, retryInMs: next }, 'publishing the trust bundle failed; node agents cannot start without it');
    }
    if (!this.stopped) this.timer = this.timers.setTimeout(() => void this.run(), next);
  }
}
