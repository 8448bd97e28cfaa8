import type { KubeObject } from './types.js';

/**
 * The RBAC authorizer, as kube-apiserver's (plugin/pkg/auth/authorizer/rbac):
 * a request is allowed when some rule of some role bound to the user covers
 * its verb, API group, resource (with subresource), and name. Deny is the
 * default and there are no deny rules; aggregated ClusterRoles are not
 * evaluated (the chart has none). Pure functions over the stored objects, so
 * the unit tests and the server share one evaluator.
 */

/** What the authorizer sees of a request (k8s.io/apiserver RequestInfo + the user). */
export interface RequestAttributes {
  verb: string;
  /** '' for the core group. */
  apiGroup: string;
  /** The plural, e.g. `pods`. */
  resource: string;
  subresource?: string;
  /** Absent for cluster-scoped requests (and for lists across all namespaces). */
  namespace?: string;
  /** Absent for create and collection requests (a list with `fieldSelector=metadata.name=X` has it, as upstream). */
  name?: string;
}

export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

export interface User {
  username: string;
  groups: readonly string[];
}

/** Where the authorizer finds roles and bindings (the object store, in the lab). */
export interface RbacSource {
  clusterRoles(): readonly KubeObject[];
  clusterRoleBindings(): readonly KubeObject[];
  roles(namespace: string): readonly KubeObject[];
  roleBindings(namespace: string): readonly KubeObject[];
}

export type Decision = { allowed: true; by: string } | { allowed: false; reason: string };

const ALL = '*';

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return (rule.verbs ?? []).some((v) => v === ALL || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === ALL || g === group);
}

/** `*` covers every resource and subresource; `*\/status` covers the status of every resource; else an exact `resource[/subresource]`. */
export function resourceMatches(rule: PolicyRule, resource: string, subresource: string | undefined): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some((r) => r === ALL || r === combined || (subresource !== undefined && r === `*/${subresource}`));
}

/** No resourceNames: any name. With them, only a request that names one of them (create and list never name an object). */
export function resourceNameMatches(rule: PolicyRule, name: string | undefined): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (name !== undefined && name !== '' && names.includes(name));
}

export function ruleAllows(rule: PolicyRule, req: RequestAttributes): boolean {
  return verbMatches(rule, req.verb) && apiGroupMatches(rule, req.apiGroup) && resourceMatches(rule, req.resource, req.subresource) && resourceNameMatches(rule, req.name);
}

/** A binding's subject names the user: a ServiceAccount (`system:serviceaccount:NS:NAME`), a User, or one of its Groups. */
export function appliesTo(subject: Subject, user: User, bindingNamespace: string | undefined): boolean {
  switch (subject.kind) {
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      return ns !== undefined && user.username === `system:serviceaccount:${ns}:${subject.name}`;
    }
    case 'User':
      return user.username === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    default:
      return false;
  }
}

interface Binding {
  metadata: { name: string; namespace?: string };
  roleRef?: { kind?: string; name?: string };
  subjects?: Subject[];
}

function rulesOf(role: KubeObject | undefined): PolicyRule[] {
  return ((role as { rules?: PolicyRule[] } | undefined)?.rules ?? []).filter((r) => r && typeof r === 'object');
}

/**
 * The rules that apply to `user` for a request in `namespace` (undefined: cluster scope):
 * every ClusterRoleBinding's role, plus, in a namespace, its RoleBindings' Roles and ClusterRoles.
 */
function* applicableRules(src: RbacSource, user: User, namespace: string | undefined): Generator<{ rule: PolicyRule; by: string }> {
  const clusterRoles = new Map(src.clusterRoles().map((r) => [r.metadata.name, r]));
  for (const b of src.clusterRoleBindings() as unknown as Binding[]) {
    if (b.roleRef?.kind !== 'ClusterRole' || !(b.subjects ?? []).some((s) => appliesTo(s, user, undefined))) continue;
    for (const rule of rulesOf(clusterRoles.get(b.roleRef.name ?? ''))) yield { rule, by: `ClusterRoleBinding ${b.metadata.name} of ClusterRole ${b.roleRef.name}` };
  }
  if (namespace === undefined) return;
  const roles = new Map(src.roles(namespace).map((r) => [r.metadata.name, r]));
  for (const b of src.roleBindings(namespace) as unknown as Binding[]) {
    if (!(b.subjects ?? []).some((s) => appliesTo(s, user, namespace))) continue;
    const kind = b.roleRef?.kind;
    const role = kind === 'Role' ? roles.get(b.roleRef?.name ?? '') : kind === 'ClusterRole' ? clusterRoles.get(b.roleRef?.name ?? '') : undefined;
    for (const rule of rulesOf(role)) yield { rule, by: `RoleBinding ${namespace}/${b.metadata.name} of ${kind} ${b.roleRef?.name}` };
  }
}

export function authorize(src: RbacSource, user: User, req: RequestAttributes): Decision {
  for (const { rule, by } of applicableRules(src, user, req.namespace)) if (ruleAllows(rule, req)) return { allowed: true, by };
  return { allowed: false, reason: forbiddenMessage(user, req) };
}

/** kube-apiserver's wording (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go), which users search for. */
export function forbiddenMessage(user: User, req: RequestAttributes): string {
  const resource = req.subresource ? `${req.resource}/${req.subresource}` : req.resource;
  const scope = req.namespace !== undefined ? `in the namespace "${req.namespace}"` : 'at the cluster scope';
  const subject = req.name ? `${resource} "${req.name}"` : resource;
  return `${subject} is forbidden: User "${user.username}" cannot ${req.verb} resource "${resource}" in API group "${req.apiGroup}" ${scope}`;
}

/** An RbacSource over anything that lists stored objects by plural and namespace. */
export function storeRbacSource(list: (plural: string, namespace?: string) => readonly KubeObject[]): RbacSource {
  return {
    clusterRoles: () => list('clusterroles'),
    clusterRoleBindings: () => list('clusterrolebindings'),
    roles: (ns) => list('roles', ns),
    roleBindings: (ns) => list('rolebindings', ns),
  };
}
