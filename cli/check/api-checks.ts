import { ApisApi, CustomObjectsApi, VersionApi, type KubeConfig } from '@kubernetes/client-node';
import { AMBIT_API_VERSION, AMBIT_GROUP, CRD_KINDS, GATEWAY_API_VERSION, GATEWAY_GROUP } from '../../lib/crds/index.js';
import { apiStatus, describeError } from '../cluster/kube.js';
import type { Check, Outcome } from './types.js';

/** Projected tokens bound to the pod, the oldest API the chart's objects use (Chart.yaml kubeVersion). */
export const MIN_KUBERNETES: readonly [number, number] = [1, 26];
/** 1.30 adds the node-name claim to service-account tokens, which the controller checks. */
export const RECOMMENDED_KUBERNETES: readonly [number, number] = [1, 30];

const GROUP = 'kubernetes';
const dotted = (v: readonly [number, number]) => `${v[0]}.${v[1]}`;
const older = (v: readonly [number, number], than: readonly [number, number]) => v[0] < than[0] || (v[0] === than[0] && v[1] < than[1]);

/** `/version` gives minor as "32" or, on some distributions, "32+". */
export function parseServerVersion(info: { major?: string; minor?: string; gitVersion?: string }): [number, number] | undefined {
  const major = parseInt(info.major ?? '', 10);
  const minor = parseInt(info.minor ?? '', 10);
  if (Number.isInteger(major) && Number.isInteger(minor)) return [major, minor];
  const m = /^v?(\d+)\.(\d+)/.exec(info.gitVersion ?? '');
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export const API_SERVER = 'api-server';

const apiServer: Check = {
  id: API_SERVER,
  group: GROUP,
  scope: 'cluster',
  run: async ({ kc, target }) => {
    let info;
    try {
      info = await kc.makeApiClient(VersionApi).getCode();
    } catch (err) {
      return {
        status: 'fail',
        message: `the Kubernetes API at ${target.server} is not reachable: ${describeError(err)}`,
        hint: target.kind === 'lab' ? `is lab ${target.name} up? 'ambit lab status'` : "check the kubeconfig (--kubeconfig, --context, $KUBECONFIG) and that 'kubectl version' answers",
      };
    }
    const v = parseServerVersion(info);
    if (!v) return { status: 'warn', message: `the API server answered but its version ${JSON.stringify(info.gitVersion)} is unreadable`, hint: `Ambit needs Kubernetes >= ${dotted(MIN_KUBERNETES)}: check 'kubectl version'` };
    if (older(v, MIN_KUBERNETES)) return { status: 'fail', message: `Kubernetes ${info.gitVersion} is older than ${dotted(MIN_KUBERNETES)}`, hint: `upgrade the cluster to ${dotted(RECOMMENDED_KUBERNETES)} or later` };
    if (older(v, RECOMMENDED_KUBERNETES)) {
      return { status: 'warn', message: `Kubernetes ${info.gitVersion} works; ${dotted(RECOMMENDED_KUBERNETES)} is recommended`, hint: `before ${dotted(RECOMMENDED_KUBERNETES)} agent tokens carry no node name, so the controller cannot tie an agent's token to its node` };
    }
    return { status: 'pass', message: `Kubernetes ${info.gitVersion} at ${target.server} (>= ${dotted(MIN_KUBERNETES)})` };
  },
};

/**
 * The resources a group/version serves, by discovery, or undefined when it is
 * not served. Discovery rather than reading CustomResourceDefinitions: it is
 * what clients (and the controller's informers) actually get, it needs no
 * RBAC on CRDs, and the lab's API server serves it too.
 */
async function served(kc: KubeConfig, group: string, version: string): Promise<Set<string> | undefined> {
  try {
    const list = await kc.makeApiClient(CustomObjectsApi).getAPIResources({ group, version });
    return new Set(list.resources.map((r) => r.name).filter((n) => !n.includes('/')));
  } catch (err) {
    if (apiStatus(err) === 404) return undefined;
    throw err;
  }
}

/** The versions of a group the API server serves (empty when none). */
async function versionsOf(kc: KubeConfig, group: string): Promise<string[]> {
  const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
  return groups.groups.find((g) => g.name === group)?.versions.map((v) => v.version) ?? [];
}

/** `AuthorizationPolicy` -> `authorizationpolicies`, as the CRDs in charts/ambit/crds spell their plurals. */
export function pluralOf(kind: string): string {
  const lower = kind.toLowerCase();
  return lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : `${lower}s`;
}

function kindsIn(apiVersion: string): { version: string; plurals: string[] } {
  return { version: apiVersion.split('/')[1]!, plurals: CRD_KINDS.filter((k) => k.apiVersion === apiVersion).map((k) => pluralOf(k.kind)) };
}

async function resourcesCheck(kc: KubeConfig, group: string, apiVersion: string, missingOutcome: (what: string) => Outcome): Promise<Outcome> {
  const { version, plurals } = kindsIn(apiVersion);
  const have = await served(kc, group, version);
  if (!have) {
    const other = await versionsOf(kc, group);
    return missingOutcome(other.length ? `${group} is served as ${other.join(', ')} but not ${version}` : `${group}/${version} is not served`);
  }
  const missing = plurals.filter((p) => !have.has(p));
  if (missing.length) return missingOutcome(`${group}/${version} lacks ${missing.map((p) => `${p}.${group}`).join(', ')}`);
  return { status: 'pass', message: `${plurals.map((p) => `${p}.${group}`).join(', ')} served at ${version}` };
}

const gatewayApi: Check = {
  id: 'gateway-api-crds',
  group: GROUP,
  scope: 'cluster',
  needs: [API_SERVER],
  run: ({ kc }) =>
    // HTTPRoute and GRPCRoute: the Gateway API kinds lib/crds validates and the controller watches.
    resourcesCheck(kc, GATEWAY_GROUP, GATEWAY_API_VERSION, (what) => ({
      // Routing is optional: the L4 mesh and policies work without Gateway API.
      status: 'warn',
      message: `${what}: routing (HTTPRoute, GRPCRoute) is unavailable`,
      hint: 'install Gateway API v1.1 or later (standard channel): kubectl apply -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml',
    })),
};

const ambitCrds: Check = {
  id: 'ambit-crds',
  group: GROUP,
  scope: 'cluster',
  needs: [API_SERVER],
  run: ({ kc }) =>
    resourcesCheck(kc, AMBIT_GROUP, AMBIT_API_VERSION, (what) => ({
      status: 'fail',
      message: what,
      hint: 'helm installs CRDs only on first install: kubectl apply -f charts/ambit/crds/ (the same chart version as the release)',
    })),
};

export const API_SERVER_CHECK = apiServer;
export const GATEWAY_API_CHECK = gatewayApi;
export const AMBIT_CRDS_CHECK = ambitCrds;
