import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Deployment,
  type V1Service,
  type V1ServiceAccount,
} from '@kubernetes/client-node';
import type { Backoff } from '../../lib/backoff.js';
import { ApiRequestError, toApiRequestError } from '../../lib/k8s/errors.js';
import { startInformer, type InformerEvent, type Informer } from '../../lib/k8s/informer.js';
import type { KubeObject } from '../../lib/k8s/types.js';
import type { Logger } from '../../lib/log.js';
import { WAYPOINT_POD_LABEL } from '../model/index.js';
import { OWNED_KINDS, type OwnedKind } from './objects.js';
import type { BundleConfigMaps } from './trust-bundle.js';

// Defined in lib/k8s, shared with the Lease lock; still offered here, where the waypoint code finds them.
export { ApiRequestError, toApiRequestError };

/**
 * The objects a Waypoint owns, as the reconciler sees and changes them: a
 * cache of those labelled `ambit.dev/waypoint` (informers), and the writes.
 * One boundary, so the reconciler runs as well against a fake.
 */
export interface OwnedObjects {
  /** Fills the cache; resolves once every kind has been listed. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Called on every change the cache sees. */
  onChange(fn: (kind: OwnedKind, event: InformerEvent, obj: KubeObject) => void): void;
  /** From the cache: only objects carrying the label are in it. */
  get(kind: OwnedKind, namespace: string, name: string): KubeObject | undefined;
  list(kind: OwnedKind): readonly KubeObject[];
  /** From the API server, label or not; undefined when there is none. */
  read(kind: OwnedKind, namespace: string, name: string): Promise<KubeObject | undefined>;
  create(kind: OwnedKind, namespace: string, body: KubeObject): Promise<KubeObject>;
  /** A PUT; the body's resourceVersion makes it fail with 409 if the object changed meanwhile. */
  replace(kind: OwnedKind, namespace: string, name: string, body: KubeObject): Promise<KubeObject>;
  /** Deletes the object only if its uid is still `uid`. */
  delete(kind: OwnedKind, namespace: string, name: string, uid: string): Promise<void>;
}

interface KindApi {
  path: string;
  list(labelSelector: string): Promise<KubernetesListObject<KubernetesObject>>;
  read(namespace: string, name: string): Promise<unknown>;
  create(namespace: string, body: KubeObject): Promise<unknown>;
  replace(namespace: string, name: string, body: KubeObject): Promise<unknown>;
  delete(namespace: string, name: string, uid: string): Promise<unknown>;
}

const FIELD_MANAGER = 'ambit-controller';

/** Through the Kubernetes API, with the controller's credentials. */
export function kubeOwnedObjects(opts: { kc: KubeConfig; log: Logger; backoff?: () => Backoff }): OwnedObjects {
  const core = opts.kc.makeApiClient(CoreV1Api);
  const apps = opts.kc.makeApiClient(AppsV1Api);
  const list = (p: Promise<unknown>) => p as Promise<KubernetesListObject<KubernetesObject>>;
  const apis: Record<OwnedKind, KindApi> = {
    ServiceAccount: {
      path: '/api/v1/serviceaccounts',
      list: (labelSelector) => list(core.listServiceAccountForAllNamespaces({ labelSelector })),
      read: (namespace, name) => core.readNamespacedServiceAccount({ namespace, name }),
      create: (namespace, body) => core.createNamespacedServiceAccount({ namespace, body: body as V1ServiceAccount, fieldManager: FIELD_MANAGER }),
      replace: (namespace, name, body) => core.replaceNamespacedServiceAccount({ namespace, name, body: body as V1ServiceAccount, fieldManager: FIELD_MANAGER }),
      delete: (namespace, name, uid) => core.deleteNamespacedServiceAccount({ namespace, name, body: { preconditions: { uid } } }),
    },
    Deployment: {
      path: '/apis/apps/v1/deployments',
      list: (labelSelector) => list(apps.listDeploymentForAllNamespaces({ labelSelector })),
      read: (namespace, name) => apps.readNamespacedDeployment({ namespace, name }),
      create: (namespace, body) => apps.createNamespacedDeployment({ namespace, body: body as V1Deployment, fieldManager: FIELD_MANAGER }),
      replace: (namespace, name, body) => apps.replaceNamespacedDeployment({ namespace, name, body: body as V1Deployment, fieldManager: FIELD_MANAGER }),
      delete: (namespace, name, uid) => apps.deleteNamespacedDeployment({ namespace, name, body: { preconditions: { uid }, propagationPolicy: 'Background' } }),
    },
    Service: {
      path: '/api/v1/services',
      list: (labelSelector) => list(core.listServiceForAllNamespaces({ labelSelector })),
      read: (namespace, name) => core.readNamespacedService({ namespace, name }),
      create: (namespace, body) => core.createNamespacedService({ namespace, body: body as V1Service, fieldManager: FIELD_MANAGER }),
      replace: (namespace, name, body) => core.replaceNamespacedService({ namespace, name, body: body as V1Service, fieldManager: FIELD_MANAGER }),
      delete: (namespace, name, uid) => core.deleteNamespacedService({ namespace, name, body: { preconditions: { uid } } }),
    },
  };
  const listeners: ((kind: OwnedKind, event: InformerEvent, obj: KubeObject) => void)[] = [];
  let informers: Record<OwnedKind, Informer<KubernetesObject>> | undefined;
  // Every object of a Waypoint carries the label; watching only those keeps the cache small.
  const selector = WAYPOINT_POD_LABEL;

  return {
    start: async () => {
      informers ??= Object.fromEntries(
        OWNED_KINDS.map((kind) => [
          kind,
          startInformer<KubernetesObject>({
            kc: opts.kc,
            path: apis[kind].path,
            labelSelector: selector,
            list: () => apis[kind].list(selector),
            onChange: (event, obj) => {
              for (const fn of listeners) fn(kind, event, obj as KubeObject);
            },
            log: opts.log,
            ...(opts.backoff ? { backoff: opts.backoff() } : {}),
          }),
        ]),
      ) as Record<OwnedKind, Informer<KubernetesObject>>;
      await Promise.all(Object.values(informers).map((i) => i.synced));
    },
    stop: async () => {
      if (informers) await Promise.all(Object.values(informers).map((i) => i.stop()));
    },
    onChange: (fn) => {
      listeners.push(fn);
    },
    get: (kind, namespace, name) => informers?.[kind].get(name, namespace) as KubeObject | undefined,
    list: (kind) => (informers?.[kind].list() ?? []) as KubeObject[],
    read: async (kind, namespace, name) => {
      try {
        return (await call(() => apis[kind].read(namespace, name))) as KubeObject;
      } catch (err) {
        if ((err as ApiRequestError).code === 404) return undefined;
        throw err;
      }
    },
    create: async (kind, namespace, body) => (await call(() => apis[kind].create(namespace, body))) as KubeObject,
    replace: async (kind, namespace, name, body) => (await call(() => apis[kind].replace(namespace, name, body))) as KubeObject,
    delete: async (kind, namespace, name, uid) => {
      await call(() => apis[kind].delete(namespace, name, uid));
    },
  };
}

/**
 * The ConfigMaps named `name` in every namespace (trust-bundle.ts's copies), through the
 * Kubernetes API: an informer selecting them by `metadata.name`, which the API server
 * authorizes with a resourceNames rule, and the writes.
 */
export function kubeBundleConfigMaps(opts: { kc: KubeConfig; name: string; log: Logger; backoff?: () => Backoff }): BundleConfigMaps {
  const core = opts.kc.makeApiClient(CoreV1Api);
  const { name } = opts;
  const fieldSelector = `metadata.name=${name}`;
  const listeners: ((event: InformerEvent, obj: KubeObject) => void)[] = [];
  let informer: Informer<KubernetesObject> | undefined;
  return {
    start: async () => {
      informer ??= startInformer<KubernetesObject>({
        kc: opts.kc,
        path: '/api/v1/configmaps',
        fieldSelector,
        list: () => core.listConfigMapForAllNamespaces({ fieldSelector }) as Promise<KubernetesListObject<KubernetesObject>>,
        onChange: (event, obj) => {
          for (const fn of listeners) fn(event, obj as KubeObject);
        },
        log: opts.log,
        ...(opts.backoff ? { backoff: opts.backoff() } : {}),
      });
      await informer.synced;
    },
    stop: async () => {
      await informer?.stop();
    },
    onChange: (fn) => {
      listeners.push(fn);
    },
    get: (namespace) => informer?.get(name, namespace) as KubeObject | undefined,
    list: () => (informer?.list() ?? []) as KubeObject[],
    create: async (namespace, body) => (await call(() => core.createNamespacedConfigMap({ namespace, body: body as V1ConfigMap, fieldManager: FIELD_MANAGER }))) as KubeObject,
    replace: async (namespace, body) => (await call(() => core.replaceNamespacedConfigMap({ namespace, name, body: body as V1ConfigMap, fieldManager: FIELD_MANAGER }))) as KubeObject,
    delete: async (namespace, uid) => {
      await call(() => core.deleteNamespacedConfigMap({ namespace, name, body: { preconditions: { uid } } }));
    },
  };
}

/** Runs a request, its failure as an ApiRequestError. */
async function call<T>(p: () => Promise<T>): Promise<T> {
  try {
    return await p();
  } catch (err) {
    throw toApiRequestError(err);
  }
}
