import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../lib/k8s/types.js';
import { hooksFor, objectKey, parseHook, planUpgrade, sortByKind, splitRelease, UNINSTALL_ORDER, upgradedObject, type Release } from './release.js';
import { renderDocuments } from './render.js';

const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');

const obj = (kind: string, name: string, extra: Record<string, unknown> = {}, annotations?: Record<string, string>): KubeObject =>
  ({ apiVersion: kind === 'Job' ? 'batch/v1' : 'v1', kind, metadata: { name, namespace: 'ambit-system', ...(annotations ? { annotations } : {}) }, ...extra }) as KubeObject;
const hook = (kind: string, name: string, weight?: string, policy?: string) =>
  obj(kind, name, {}, { 'helm.sh/hook': 'pre-delete', ...(weight !== undefined ? { 'helm.sh/hook-weight': weight } : {}), ...(policy ? { 'helm.sh/hook-delete-policy': policy } : {}) });

describe('helm release semantics', () => {
  it("splits a render into the crds/ folder's CRDs, hooks and manifests; a hook of an unknown event is skipped", () => {
    const crd = obj('CustomResourceDefinition', 'waypoints.ambit.dev');
    const templated = obj('CustomResourceDefinition', 'extra.ambit.dev');
    const r = splitRelease([
      { source: 'ambit/crds/waypoints.ambit.dev.yaml', object: crd },
      { source: 'ambit/charts/sub/crds/x.yaml', object: obj('CustomResourceDefinition', 'sub') },
      { source: 'ambit/templates/crd.yaml', object: templated },
      { source: 'ambit/templates/hook.yaml', object: hook('Job', 'j') },
      { source: 'ambit/templates/odd.yaml', object: obj('Job', 'odd', {}, { 'helm.sh/hook': 'pre-install, on-tuesday' }) },
      { source: 'ambit/templates/svc.yaml', object: obj('Service', 's') },
    ]);
    assert.deepEqual(r.crds.map((o) => o.metadata.name), ['waypoints.ambit.dev', 'sub']);
    assert.deepEqual(r.manifests.map((o) => o.metadata.name), ['extra.ambit.dev', 's'], 'a CRD in templates/ is an ordinary manifest to helm');
    assert.deepEqual(r.hooks.map((o) => o.metadata.name), ['j']);
  });

  it('orders the hooks of an event by weight, then kind as helm installs kinds, then name', () => {
    const hooks = [hook('Job', 'b-job', '0'), hook('RoleBinding', 'x', '-10'), hook('Role', 'x', '-10'), hook('ServiceAccount', 'x', '-10'), hook('Job', 'a-job', 'not-a-number'), hook('ConfigMap', 'late', '5')];
    const order = hooksFor([...hooks, obj('Job', 'other', {}, { 'helm.sh/hook': 'post-install' })], 'pre-delete').map((h) => `${h.object.kind}/${h.object.metadata.name}`);
    assert.deepEqual(order, ['ServiceAccount/x', 'Role/x', 'RoleBinding/x', 'Job/a-job', 'Job/b-job', 'ConfigMap/late']);
  });

  it('reads delete policies, with before-hook-creation by default', () => {
    assert.deepEqual(parseHook(hook('Job', 'j', '1', 'before-hook-creation, Hook-Succeeded')).deletePolicies, ['before-hook-creation', 'hook-succeeded']);
    assert.deepEqual(parseHook(hook('Job', 'j')).deletePolicies, ['before-hook-creation']);
    assert.equal(parseHook(hook('Job', 'j', '-3')).weight, -3);
  });

  it("selects and orders the chart's own pre-delete hook as helm renders it", async () => {
    const release = splitRelease(await renderDocuments({ chartDir: resolve(repoRoot, 'charts', 'ambit'), repoRoot }, { hooks: true }));
    assert.deepEqual(hooksFor(release.hooks, 'pre-delete').map((h) => [h.object.kind, h.object.metadata.name, h.weight, h.deletePolicies.join(',')]), [
      ['ServiceAccount', 'ambit-uninstall', -10, 'before-hook-creation,hook-succeeded'],
      ['Role', 'ambit-uninstall', -10, 'before-hook-creation,hook-succeeded'],
      ['RoleBinding', 'ambit-uninstall', -10, 'before-hook-creation,hook-succeeded'],
      ['Job', 'ambit-uninstall', 0, 'before-hook-creation,hook-succeeded'],
    ]);
    assert.equal(hooksFor(release.hooks, 'pre-upgrade').length, 0);
    assert.ok(release.crds.length >= 4 && release.crds.every((o) => o.kind === 'CustomResourceDefinition'));
    assert.ok(!release.manifests.some((o) => o.metadata.annotations?.['helm.sh/hook']));
  });

  it('upgrades: applies the new manifests in install order, removes the dropped ones in uninstall order, keeps those marked keep', () => {
    const previous: Release = { crds: [], manifests: [obj('ServiceAccount', 'sa'), obj('Deployment', 'gone'), obj('Service', 'gone'), obj('ConfigMap', 'kept', {}, { 'helm.sh/resource-policy': 'keep' }), obj('DaemonSet', 'ds')], hooks: [] };
    const next: Release = { crds: [], manifests: [obj('DaemonSet', 'ds'), obj('ServiceAccount', 'sa'), obj('ConfigMap', 'new')], hooks: [] };
    const plan = planUpgrade(previous, next);
    assert.deepEqual(plan.apply.map(objectKey), ['/ServiceAccount/ambit-system/sa', '/ConfigMap/ambit-system/new', '/DaemonSet/ambit-system/ds']);
    assert.deepEqual(plan.remove.map(objectKey), ['/Service/ambit-system/gone', '/Deployment/ambit-system/gone']);
    assert.deepEqual(plan.kept.map((o) => o.metadata.name), ['kept']);
    assert.deepEqual(sortByKind([obj('PeerAuthentication', 'default'), obj('Service', 's')], UNINSTALL_ORDER).map((o) => o.kind), ['Service', 'PeerAuthentication'], 'kinds helm does not list go last');
  });

  it("patches the live object three-way: the chart's changes in, dropped fields out, what others own kept", () => {
    const template = (env: { name: string; value: string }[], annotations?: Record<string, string>) => ({ metadata: { labels: { app: 'a' }, ...(annotations ? { annotations } : {}) }, spec: { containers: [{ name: 'c', env }] } });
    const original = obj('Deployment', 'd', { spec: { replicas: 1, paused: false, template: template([{ name: 'LOG', value: 'info' }]) } });
    const modified = obj('Deployment', 'd', { spec: { replicas: 1, template: template([{ name: 'LOG', value: 'debug' }]) } });
    const current = {
      ...obj('Deployment', 'd', { spec: { replicas: 3, paused: false, template: template([{ name: 'LOG', value: 'info' }, { name: 'EDITED', value: 'x' }], { 'kubectl.kubernetes.io/restartedAt': 'now' }) }, status: { readyReplicas: 1 } }),
      metadata: { name: 'd', namespace: 'ambit-system', uid: 'u', resourceVersion: '7' },
    } as KubeObject;
    const out = upgradedObject(original, modified, current) as unknown as { metadata: { uid: string }; spec: { replicas: number; paused?: boolean; template: { metadata: { annotations?: Record<string, string> }; spec: { containers: { env: unknown[] }[] } } }; status: unknown };
    assert.equal(out.spec.replicas, 1, 'a field the chart sets is reset to its value');
    assert.equal(out.spec.paused, undefined, 'a field the chart dropped is removed');
    assert.deepEqual(out.spec.template.spec.containers[0]!.env, [{ name: 'LOG', value: 'debug' }, { name: 'EDITED', value: 'x' }], "a built-in kind's list merges by key: an env variable someone else added stays");
    assert.deepEqual(out.spec.template.metadata.annotations, { 'kubectl.kubernetes.io/restartedAt': 'now' }, 'an annotation no manifest names stays');
    assert.deepEqual([out.metadata.uid, out.status], ['u', { readyReplicas: 1 }]);
    const svc = obj('Service', 's', { spec: { ports: [{ port: 1 }] } });
    const live = obj('Service', 's', { spec: { ports: [{ port: 1 }], clusterIP: '10.96.0.9' } });
    assert.equal((upgradedObject(svc, obj('Service', 's', { spec: { ports: [{ port: 2 }] } }), live).spec as { clusterIP: string }).clusterIP, '10.96.0.9');
  });

  it('merges keyed lists of built-in kinds as a strategic merge does, and replaces the lists of custom resources', () => {
    const ds = (containers: unknown[], extra: Record<string, unknown> = {}) => obj('DaemonSet', 'ds', { spec: { template: { spec: { containers, ...extra } } } });
    const original = ds([{ name: 'agent', args: ['a'], env: [{ name: 'GONE', value: '1' }, { name: 'KEEP', value: '1' }] }, { name: 'old-sidecar' }], { tolerations: [{ operator: 'Exists' }] });
    const modified = ds([{ name: 'agent', args: ['b'], env: [{ name: 'KEEP', value: '2' }, { name: 'NEW', value: '1' }] }], { tolerations: [{ key: 'k', operator: 'Exists' }] });
    const current = ds([{ name: 'injected' }, { name: 'agent', args: ['a'], env: [{ name: 'GONE', value: '1' }, { name: 'MINE', value: 'x' }, { name: 'KEEP', value: '1' }], imagePullPolicy: 'IfNotPresent' }, { name: 'old-sidecar' }], { tolerations: [{ operator: 'Exists' }] });
    const spec = (upgradedObject(original, modified, current).spec as { template: { spec: { containers: { name: string; args?: string[]; env?: unknown[]; imagePullPolicy?: string }[]; tolerations: unknown[] } } }).template.spec;
    assert.deepEqual(spec.containers.map((c) => c.name), ['agent', 'injected'], "the manifest's containers in its order, then one neither manifest names; the dropped one goes");
    const agent = spec.containers[0]!;
    assert.deepEqual(agent.env, [{ name: 'KEEP', value: '2' }, { name: 'NEW', value: '1' }, { name: 'MINE', value: 'x' }]);
    assert.deepEqual([agent.args, agent.imagePullPolicy], [['b'], 'IfNotPresent'], 'a list of scalars is replaced; a defaulted field stays');
    assert.deepEqual(spec.tolerations, [{ key: 'k', operator: 'Exists' }], 'a list without a merge key is replaced');

    const crd = (rules: unknown[]) => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'ambit-system' }, spec: { rules } }) as KubeObject;
    const route = upgradedObject(crd([{ name: 'a', matches: [] }]), crd([{ name: 'a', backendRefs: [] }]), crd([{ name: 'a', matches: [] }, { name: 'theirs' }]));
    assert.deepEqual((route.spec as { rules: unknown[] }).rules, [{ name: 'a', backendRefs: [] }], 'a custom resource gets a JSON merge: its lists are replaced whole');
  });
});
