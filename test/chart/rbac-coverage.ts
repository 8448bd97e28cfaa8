import { ruleAllows, type PolicyRule, type RequestAttributes } from '../../lab/apiserver/rbac.js';
import type { KubeObject } from '../../lib/k8s/types.js';

/**
 * The chart's RBAC cut into atoms (one verb on one resource of one rule, with its names and
 * scope) for the service accounts its components run as, and the test that every atom is
 * used by a request the code made. Matching goes through the lab API server's own
 * evaluator, so "used" means exactly "this rule is what allowed a call".
 */

export interface RuleAtom {
  /** `ClusterRole ambit-controller`, `Role ambit-system/ambit-controller`. */
  role: string;
  verb: string;
  apiGroup: string;
  /** `pods`, `waypoints/status`. */
  resource: string;
  resourceNames: readonly string[];
  /** Where the binding grants it: everywhere (ClusterRoleBinding) or in one namespace (RoleBinding). */
  namespace: string | undefined;
}

export function atomKey(a: RuleAtom): string {
  return `${a.role}: ${a.verb} ${a.apiGroup || 'core'}/${a.resource}${a.resourceNames.length ? `[${a.resourceNames.join(',')}]` : ''}`;
}

interface Binding {
  kind: string;
  metadata: { name: string; namespace?: string };
  roleRef: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

/** The atoms of every role bound to `serviceAccount` (`namespace/name`) by the rendered objects. */
export function boundAtoms(objects: readonly KubeObject[], serviceAccount: string): RuleAtom[] {
  const [saNs, saName] = serviceAccount.split('/');
  const atoms: RuleAtom[] = [];
  for (const b of objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding') as unknown as Binding[]) {
    if (!(b.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === saName && (s.namespace ?? b.metadata.namespace) === saNs)) continue;
    const bindingNs = b.kind === 'RoleBinding' ? b.metadata.namespace : undefined;
    const role = objects.find((o) => o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name && (b.roleRef.kind === 'ClusterRole' || o.metadata.namespace === bindingNs));
    if (!role) continue;
    const label = role.kind === 'Role' ? `Role ${role.metadata.namespace}/${role.metadata.name}` : `ClusterRole ${role.metadata.name}`;
    for (const rule of ((role as { rules?: PolicyRule[] }).rules ?? [])) {
      for (const verb of rule.verbs ?? []) for (const apiGroup of rule.apiGroups ?? []) for (const resource of rule.resources ?? []) {
        atoms.push({ role: label, verb, apiGroup, resource, resourceNames: rule.resourceNames ?? [], namespace: bindingNs });
      }
    }
  }
  return atoms;
}

/** Whether a recorded request is one this atom alone would allow. */
export function atomAllows(a: RuleAtom, req: RequestAttributes): boolean {
  if (a.namespace !== undefined && req.namespace !== a.namespace) return false;
  return ruleAllows({ verbs: [a.verb], apiGroups: [a.apiGroup], resources: [a.resource], resourceNames: [...a.resourceNames] }, req);
}
