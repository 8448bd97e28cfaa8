import { CRD_KINDS, type Fields, type Rec } from '../../lib/crds/index.js';
import { dnsLabelProblem, dnsSubdomainProblem, rfc1035LabelProblem } from '../../lib/k8s/names.js';
import { checkConfigMap, checkSecret } from './config-kinds.js';
import { checkService } from './service-kinds.js';
import { checkDeployment, checkPod } from './workload-kinds.js';

/** The kinds `lab up`/`lab apply` accept: the single table the loader dispatches on. */

export interface KindRule {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly nameCheck: (s: string) => string | undefined;
  /** Kind-specific checks; field paths are relative to the object root. */
  readonly check?: (f: Fields, obj: Rec) => void;
}

const crd = (apiVersion: string, kind: string, validate: (obj: unknown) => { path: string; message: string }[]): KindRule => ({
  apiVersion,
  kind,
  namespaced: true,
  // A Waypoint gets a Service of its own name, so its name must be a valid Service name.
  nameCheck: kind === 'Waypoint' ? rfc1035LabelProblem : dnsSubdomainProblem,
  check: (f, obj) => {
    for (const e of validate(obj)) f.add(e.path, e.message);
  },
});

export const KIND_RULES: readonly KindRule[] = Object.freeze([
  { apiVersion: 'v1', kind: 'Namespace', namespaced: false, nameCheck: dnsLabelProblem },
  { apiVersion: 'v1', kind: 'Pod', namespaced: true, nameCheck: dnsSubdomainProblem, check: checkPod },
  { apiVersion: 'apps/v1', kind: 'Deployment', namespaced: true, nameCheck: dnsSubdomainProblem, check: checkDeployment },
  // Service names become DNS labels (`svc.ns.svc.cluster.local`), hence RFC 1035.
  { apiVersion: 'v1', kind: 'Service', namespaced: true, nameCheck: rfc1035LabelProblem, check: checkService },
  { apiVersion: 'v1', kind: 'ServiceAccount', namespaced: true, nameCheck: dnsSubdomainProblem },
  { apiVersion: 'v1', kind: 'ConfigMap', namespaced: true, nameCheck: dnsSubdomainProblem, check: checkConfigMap },
  { apiVersion: 'v1', kind: 'Secret', namespaced: true, nameCheck: dnsSubdomainProblem, check: checkSecret },
  ...CRD_KINDS.map((k) => crd(k.apiVersion, k.kind, k.validate)),
]);

export const SUPPORTED_KINDS: readonly string[] = KIND_RULES.map((k) => k.kind);

export function findKindRule(apiVersion: unknown, kind: unknown): KindRule | undefined {
  return KIND_RULES.find((k) => k.apiVersion === apiVersion && k.kind === kind);
}

/** Why an apiVersion/kind pair is not accepted: which field to fix and how. */
export function kindProblem(apiVersion: unknown, kind: unknown): { path: string; message: string } | undefined {
  if (findKindRule(apiVersion, kind)) return undefined;
  if (typeof kind !== 'string' || kind === '') return { path: 'kind', message: 'required' };
  const sameKind = KIND_RULES.find((k) => k.kind === kind);
  if (sameKind) {
    if (typeof apiVersion !== 'string' || apiVersion === '') return { path: 'apiVersion', message: `required (${kind} is ${sameKind.apiVersion})` };
    return { path: 'apiVersion', message: `${kind} must be ${sameKind.apiVersion} (got ${JSON.stringify(apiVersion)})` };
  }
  return { path: 'kind', message: `${JSON.stringify(kind)} is not supported by the lab; supported kinds: ${SUPPORTED_KINDS.join(', ')}` };
}
