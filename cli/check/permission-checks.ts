import { AuthorizationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { AMBIT_GROUP } from '../../lib/crds/index.js';
import { API_SERVER } from './api-checks.js';
import { apiStatus } from '../cluster/kube.js';
import type { Check } from './types.js';

/**
 * What `helm install ambit charts/ambit -n NS --create-namespace` creates,
 * by kind (charts/ambit/crds and templates/). Keep in step with the chart:
 * cli/check/permission-checks.test.ts compares it with a render.
 */
export const CHART_KINDS: readonly { group: string; resource: string; namespaced: boolean }[] = [
  { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', namespaced: false },
  { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', namespaced: false },
  { group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings', namespaced: false },
  { group: 'rbac.authorization.k8s.io', resource: 'roles', namespaced: true },
  { group: 'rbac.authorization.k8s.io', resource: 'rolebindings', namespaced: true },
  { group: '', resource: 'serviceaccounts', namespaced: true },
  { group: '', resource: 'services', namespaced: true },
  { group: 'apps', resource: 'deployments', namespaced: true },
  { group: 'apps', resource: 'daemonsets', namespaced: true },
  { group: 'policy', resource: 'poddisruptionbudgets', namespaced: true },
  { group: 'batch', resource: 'jobs', namespaced: true },
  { group: AMBIT_GROUP, resource: 'peerauthentications', namespaced: true },
];

const qualified = (k: { group: string; resource: string }) => (k.group ? `${k.resource}.${k.group}` : k.resource);

const installPermissions: Check = {
  id: 'install-permissions',
  group: 'permissions',
  scope: 'cluster',
  needs: [API_SERVER],
  run: async ({ kc, namespace, target }) => {
    const authz = kc.makeApiClient(AuthorizationV1Api);
    // --create-namespace needs to create it only when it is not there yet.
    const nsExists = await kc
      .makeApiClient(CoreV1Api)
      .readNamespace({ name: namespace })
      .then(
        () => true,
        () => false,
      );
    const wanted = [...(nsExists ? [] : [{ group: '', resource: 'namespaces', namespaced: false }]), ...CHART_KINDS];
    const denied: string[] = [];
    for (const k of wanted) {
      try {
        const review = await authz.createSelfSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: { resourceAttributes: { verb: 'create', group: k.group, resource: k.resource, ...(k.namespaced ? { namespace } : {}) } },
          },
        });
        if (!review.status?.allowed) denied.push(qualified(k));
      } catch (err) {
        if (apiStatus(err) !== 404) throw err;
        return target.kind === 'lab'
          ? { status: 'skip', message: "the lab's API server has no SelfSubjectAccessReview: its kubeconfig user may do anything" }
          : {
              status: 'warn',
              message: 'the API server does not serve SelfSubjectAccessReview (authorization.k8s.io/v1): permissions not checked',
              hint: `check by hand: kubectl auth can-i create ${qualified(CHART_KINDS[0]!)} and kubectl auth can-i create daemonsets.apps -n ${namespace}`,
            };
      }
    }
    if (denied.length) {
      return {
        status: 'fail',
        message: `you may not create ${denied.join(', ')}${denied.some((d) => !d.startsWith('customresource') && !d.startsWith('clusterrole') && d !== 'namespaces') ? ` (in ${namespace})` : ''}`,
        hint: `installing the chart needs cluster-admin or these rights; check one with kubectl auth can-i create ${denied[0]} -n ${namespace}`,
      };
    }
    return { status: 'pass', message: `you may create everything the chart creates (${wanted.length} kinds${nsExists ? '' : `, namespace ${namespace} included`})` };
  },
};

export const PERMISSIONS_CHECK = installPermissions;
