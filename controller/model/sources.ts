import {
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Backoff } from '../../lib/backoff.js';
import { startInformer, type Informer } from '../../lib/k8s/informer.js';
import type { Logger } from '../../lib/log.js';
import type { WatchedKind } from './kinds.js';
import type { MeshModel } from './model.js';
import type { RawObject } from './policies.js';

/**
 * The informers that feed the model: one per watched kind, all funnelled
 * into `model.apply`, the model's only writer.
 */

export interface ModelSources {
  /** Resolves when every informer has delivered its first list. */
  readonly synced: Promise<void>;
  isSynced(): boolean;
  stop(): Promise<void>;
}

type ListFn = () => Promise<KubernetesListObject<KubernetesObject>>;

/**
 * Gateway API's CRDs are the cluster's to install, not Ambit's: where they
 * are missing the list is a 404, which would keep the informer from ever
 * syncing and the controller from ever getting ready. Such a list reads as
 * empty (no routes); the informer's watch keeps failing and retrying with
 * backoff, and each retry lists again, so routes are picked up once the CRDs
 * are installed.
 */
export function absentIsEmpty(list: ListFn, log: Logger): ListFn {
  let warned = false;
  return async () => {
    try {
      return await list();
    } catch (err) {
      if ((err as { code?: unknown }).code !== 404) throw err;
      if (!warned) log.warn({ code: 'AMBIT_ERR_API', err: err instanceof Error ? err.message : String(err) }, 'Gateway API route kinds are not served (CRDs not installed?): no routes until they are');
      warned = true;
      return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '0' }, items: [] };
    }
  };
}

export function startModelSources(opts: { kc: KubeConfig; model: MeshModel; log: Logger; backoff?: () => Backoff }): ModelSources {
  const { kc, model, log } = opts;
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const crd = (plural: string, group = 'ambit.dev', version = 'v1alpha1'): ListFn => () =>
    custom.listClusterCustomObject({ group, version, plural }) as Promise<KubernetesListObject<KubernetesObject>>;
  const gateway = (plural: string): ListFn => absentIsEmpty(crd(plural, 'gateway.networking.k8s.io', 'v1'), log);

  const table: [WatchedKind, string, ListFn][] = [
    ['Namespace', '/api/v1/namespaces', () => core.listNamespace() as Promise<KubernetesListObject<KubernetesObject>>],
    ['Pod', '/api/v1/pods', () => core.listPodForAllNamespaces() as Promise<KubernetesListObject<KubernetesObject>>],
    ['Service', '/api/v1/services', () => core.listServiceForAllNamespaces() as Promise<KubernetesListObject<KubernetesObject>>],
    ['EndpointSlice', '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces() as Promise<KubernetesListObject<KubernetesObject>>],
    ['ServiceAccount', '/api/v1/serviceaccounts', () => core.listServiceAccountForAllNamespaces() as Promise<KubernetesListObject<KubernetesObject>>],
    ['Node', '/api/v1/nodes', () => core.listNode() as Promise<KubernetesListObject<KubernetesObject>>],
    ['Waypoint', '/apis/ambit.dev/v1alpha1/waypoints', crd('waypoints')],
    ['AuthorizationPolicy', '/apis/ambit.dev/v1alpha1/authorizationpolicies', crd('authorizationpolicies')],
    ['PeerAuthentication', '/apis/ambit.dev/v1alpha1/peerauthentications', crd('peerauthentications')],
    ['TrafficPolicy', '/apis/ambit.dev/v1alpha1/trafficpolicies', crd('trafficpolicies')],
    ['HTTPRoute', '/apis/gateway.networking.k8s.io/v1/httproutes', gateway('httproutes')],
    ['GRPCRoute', '/apis/gateway.networking.k8s.io/v1/grpcroutes', gateway('grpcroutes')],
  ];
  const informers: Informer<KubernetesObject>[] = table.map(([kind, path, list]) =>
    startInformer<KubernetesObject>({
      kc,
      path,
      list,
      onChange: (event, obj) => model.apply(kind, event, obj as RawObject),
      log,
      ...(opts.backoff ? { backoff: opts.backoff() } : {}),
    }),
  );
  let done = false;
  const synced = Promise.all(informers.map((i) => i.synced)).then(() => {
    done = true;
    log.info({ counts: model.counts() }, 'model synced with the API server');
  });
  return {
    synced,
    isSynced: () => done,
    stop: async () => {
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
