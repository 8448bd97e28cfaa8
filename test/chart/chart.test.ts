import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ENV as CONTROLLER_ENV, PORTS as CONTROLLER_PORTS, loadControllerConfig, waypointTemplate } from '../../controller/config.js';
import { WAYPOINT_ENV, desiredObjects, trustBundleCopy } from '../../controller/waypoints/index.js';
import { AMBIT_API_VERSION, validateResource } from '../../lib/crds/index.js';
import { ROOT_CA_CONFIGMAP, ROOT_CA_KEY } from '../../lib/identity/index.js';
import { ENV as AGENT_ENV, PORTS as AGENT_PORTS } from '../../node-agent/config.js';
import { chartDir, find, helm, render, repoRoot, type K8sObject } from './helm.js';

/**
 * charts/ambit through the real helm: lint clean, rendered with default and
 * varied values, every object valid for its kind (kubernetes-models' schemas,
 * or lib/crds, which applies our CRDs, for ambit.dev kinds), the components given the settings their
 * config loaders read, and bad values refused with a message naming them.
 */

/** Settings the chart hands over that no loader reads yet, and who will. */
const PENDING_CONTROLLER_ENV = new Set([
  'AMBIT_LOG_LEVEL', // lib/log.ts, read by every component
  'AMBIT_TRACING_ENDPOINT', // to pass on to waypoint Deployments (tracing, not implemented)
]);

async function validateKubernetes(obj: K8sObject): Promise<string[]> {
  if (obj.apiVersion === AMBIT_API_VERSION) return validateResource(obj).map((e) => `${e.path}: ${e.message}`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(`kubernetes-models/${obj.apiVersion}`)) as Record<string, unknown>;
  } catch {
    return [`kubernetes-models has no API version ${obj.apiVersion}`];
  }
  const Kind = mod[obj.kind] as (new (o: unknown) => { validate(): void }) | undefined;
  if (typeof Kind !== 'function') return [`kubernetes-models has no ${obj.apiVersion} ${obj.kind}`];
  try {
    new Kind(obj).validate();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

async function assertValid(objs: K8sObject[]): Promise<void> {
  const problems: string[] = [];
  for (const o of objs) for (const p of await validateKubernetes(o)) problems.push(`${o.kind} ${o.metadata.name}: ${p}`);
  assert.deepEqual(problems, []);
}

/** The controller's config as its pod reads it, the downward API's fieldRefs filled as kubelet would for one pod. */
function controllerConfigOf(objs: K8sObject[], namespace: string): ReturnType<typeof loadControllerConfig> {
  const c = find(objs, 'Deployment', 'ambit-controller').spec.template.spec.containers[0];
  const fields: Record<string, string> = { 'metadata.namespace': namespace, 'metadata.name': 'ambit-controller-5c7b9-x2x4q' };
  const env = Object.fromEntries(
    (c.env as { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[]).map((e) => [e.name, e.value ?? fields[e.valueFrom?.fieldRef?.fieldPath ?? ''] ?? '']),
  );
  return loadControllerConfig(env);
}

const envOf = (container: { env?: { name: string; value?: string }[] }): Map<string, string | undefined> => new Map((container.env ?? []).map((e) => [e.name, e.value]));

describe('charts/ambit', () => {
  it('passes helm lint --strict with nothing but the icon hint', async () => {
    const r = await helm(['lint', '--strict', chartDir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const notes = r.stdout.split('\n').filter((l) => /^\[(INFO|WARNING|ERROR)\]/.test(l));
    assert.deepEqual(notes, ['[INFO] Chart.yaml: icon is recommended']);
  });

  it('is released with the code: appVersion is package.json version', () => {
    const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    assert.equal(chart.appVersion, pkg.version);
  });

  it('renders valid objects with the default values, CRDs included', async () => {
    const objs = await render({}, { includeCrds: true });
    await assertValid(objs);
    const kinds = objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    for (const k of ['Deployment/ambit-controller', 'DaemonSet/ambit-node-agent', 'Service/ambit-controller', 'PodDisruptionBudget/ambit-controller', 'ClusterRole/ambit-controller', 'Role/ambit-controller', 'Job/ambit-uninstall', 'PeerAuthentication/default', 'CustomResourceDefinition/waypoints.ambit.dev']) {
      assert.ok(kinds.includes(k), `${k} in ${kinds.join(', ')}`);
    }
    assert.ok(!objs.some((o) => o.kind === 'CustomResourceDefinition' && String(o.spec.group).startsWith('gateway.networking.k8s.io')), 'no Gateway API CRDs');
    assert.ok(!objs.some((o) => o.kind === 'ConfigMap' && o.metadata.name === ROOT_CA_CONFIGMAP), 'the controller publishes the trust bundle, not the chart');
  });

  for (const [name, set, namespace] of [
    ['STRICT, another trust domain and namespace, pinned image', { defaultMtlsMode: 'STRICT', trustDomain: 'example.org', 'image.tag': 'v9.9.9', 'image.repository': 'registry.example:5000/mesh/ambit' }, 'mesh'],
    ['one controller, agents on auto workers, old kernels, tracing', { 'controller.replicas': '1', 'nodeAgent.workers': 'auto', 'nodeAgent.sysAdminForOldKernels': 'true', 'nodeAgent.enableListenerMigration': 'false', 'tracing.endpoint': 'http://otel.observability:4318/v1/traces', 'uninstallHook.enabled': 'false' }, 'ambit-system'],
    ['pull secrets, tolerations, digest, debug logs', { 'imagePullSecrets[0].name': 'regcred', 'controller.tolerations[0].operator': 'Exists', 'image.tag': `sha256:${'a'.repeat(64)}`, logLevel: 'debug', 'controller.leaderElection.enabled': 'false' }, 'ambit-system'],
  ] as const) {
    it(`renders valid objects: ${name}`, async () => {
      await assertValid(await render(set, { namespace }));
    });
  }

  it('gives the controller the settings controller/config.ts reads, and a budget and probes that fit', async () => {
    const objs = await render();
    const dep = find(objs, 'Deployment', 'ambit-controller');
    assert.equal(dep.spec.replicas, 2);
    const c = dep.spec.template.spec.containers[0];
    assert.deepEqual(c.args, ['controller']);
    assert.deepEqual(c.ports.map((p: { containerPort: number }) => p.containerPort), [CONTROLLER_PORTS.grpc, CONTROLLER_PORTS.admin]);
    assert.equal(c.readinessProbe.httpGet.path, '/ready');
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    const known = new Set<string>(Object.values(CONTROLLER_ENV));
    const unknown = [...envOf(c).keys()].filter((k) => !known.has(k) && !PENDING_CONTROLLER_ENV.has(k));
    assert.deepEqual(unknown, [], 'every variable is one the controller reads (or a listed pending one)');
    const env = envOf(c);
    assert.equal(env.get(CONTROLLER_ENV.agentServiceAccounts), 'ambit-system/ambit-node-agent');
    assert.equal(env.get(CONTROLLER_ENV.rootCaConfigMap), ROOT_CA_CONFIGMAP);
    const svc = find(objs, 'Service', 'ambit-controller');
    assert.deepEqual(svc.spec.ports.map((p: { port: number }) => p.port), [15010, 15014]);
    assert.equal(find(objs, 'PodDisruptionBudget', 'ambit-controller').spec.minAvailable, 1);
    const single = await render({ 'controller.replicas': '1' });
    assert.ok(!single.some((o) => o.kind === 'PodDisruptionBudget'), 'no budget that would block every drain');
  });

  it('has the controller replicas elect a leader over the Lease its Role lets it get, create and update', async () => {
    const objs = await render({}, { namespace: 'mesh' });
    const election = controllerConfigOf(objs, 'mesh').leaderElection;
    assert.deepEqual(election, { namespace: 'mesh', leaseName: 'ambit-controller', identity: 'ambit-controller-5c7b9-x2x4q', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    const role = find(objs, 'Role', 'ambit-controller');
    const leaseRules = (role.rules as { apiGroups: string[]; resources: string[]; resourceNames?: string[]; verbs: string[] }[]).filter((r) => r.apiGroups.includes('coordination.k8s.io') && r.resources.includes('leases'));
    assert.deepEqual(leaseRules.map((r) => [r.resourceNames ?? [], r.verbs]), [[['ambit-controller'], ['get', 'update']], [[], ['create']]]);

    const off = find(await render({ 'controller.leaderElection.enabled': 'false' }), 'Deployment', 'ambit-controller').spec.template.spec.containers[0];
    assert.equal(envOf(off).get(CONTROLLER_ENV.leaderElection), 'false');
  });

  it("has the controller write Waypoint Deployments that are valid, mount the bundle and a token for the agents' audience, and get waypoint.resources", async () => {
    const set = { tokenAudience: 'mesh.example', 'waypoint.resources.limits.cpu': '2', 'waypoint.resources.requests.memory': '256Mi' };
    const objs = await render(set, { namespace: 'mesh' });
    const cfg = controllerConfigOf(objs, 'mesh');
    const wp = { namespace: 'shop', name: 'wp', uid: 'uid-wp', replicas: 2 };
    const made = desiredObjects(wp, waypointTemplate(cfg));
    const bundle = trustBundleCopy(cfg.rootCaConfigMap, 'shop', [{ metadata: { name: 'wp', uid: 'uid-wp' } }], '-----BEGIN CERTIFICATE-----\n');
    await assertValid([made.ServiceAccount, made.Deployment, made.Service, bundle] as K8sObject[]);

    const pod = (made.Deployment as K8sObject).spec.template.spec;
    const agentPod = find(objs, 'DaemonSet', 'ambit-node-agent').spec.template.spec;
    const token = (p: typeof pod) => p.volumes.find((v: { projected?: unknown }) => v.projected).projected.sources[0].serviceAccountToken;
    assert.deepEqual(token(pod), { ...token(agentPod), audience: 'mesh.example' }, "the agent's token volume, for the audience the controller reviews");
    assert.equal(token(agentPod).audience, 'mesh.example');
    assert.equal(pod.volumes.find((v: { configMap?: unknown }) => v.configMap).configMap.name, bundle.metadata.name, 'the copy the controller keeps in its namespace');
    assert.equal(pod.automountServiceAccountToken, false);
    assert.deepEqual(pod.containers[0].resources, { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '2', memory: '1Gi' } });
    const c = pod.containers[0];
    assert.deepEqual(envOf(c).get(WAYPOINT_ENV.rootCaFile), find(objs, 'DaemonSet', 'ambit-node-agent').spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === AGENT_ENV.rootCaFile).value, 'the same path as the agent');
  });

  it('gives the node agent what node-agent/config.ts reads, the capabilities it needs, and a surge rollout', async () => {
    const objs = await render({ trustDomain: 'example.org' }, { namespace: 'mesh' });
    const ds = find(objs, 'DaemonSet', 'ambit-node-agent');
    assert.deepEqual(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    const pod = ds.spec.template.spec;
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.dnsPolicy, 'ClusterFirstWithHostNet');
    assert.equal(pod.priorityClassName, 'system-node-critical');
    assert.deepEqual(pod.tolerations, [{ operator: 'Exists' }]);
    assert.equal(pod.automountServiceAccountToken, false);
    const c = pod.containers.find((x: { name: string }) => x.name === 'node-agent');
    assert.deepEqual(c.args, ['node-agent']);
    assert.notEqual(c.securityContext.privileged, true);
    assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'], add: ['BPF', 'NET_ADMIN', 'SYS_RESOURCE'] });
    // Declared ports would become hostPorts (hostNetwork), which keep the surge pod off its node.
    assert.equal(c.ports, undefined, 'no container ports on the host network: they would block the surge rollout');
    // Its readiness from a file in its own volume: the node's 15020 may be the other agent's during a rollout.
    assert.deepEqual(c.readinessProbe.exec.command, ['cat', envOf(c).get(AGENT_ENV.readyFile)]);
    assert.equal(c.livenessProbe.httpGet.port, AGENT_PORTS.admin);
    const known = new Set<string>([...Object.values(AGENT_ENV), 'AMBIT_LOG_LEVEL']);
    assert.deepEqual([...envOf(c).keys()].filter((k) => !known.has(k)), []);
    const env = envOf(c);
    for (const required of [AGENT_ENV.nodeName, AGENT_ENV.cgroupMount, AGENT_ENV.podUid, AGENT_ENV.redirectIp, AGENT_ENV.nodeIp]) assert.ok(env.has(required), required);
    assert.equal(env.get(AGENT_ENV.controllerAddress), 'ambit-controller.mesh.svc:15010');
    assert.equal(env.get(AGENT_ENV.controllerIdentity), 'spiffe://example.org/ns/mesh/sa/ambit-controller');
    assert.equal(env.get(AGENT_ENV.detachOnExit), 'false', 'a restart keeps the programs for the next agent');

    // Volumes: the trust bundle where AMBIT_ROOT_CA_FILE says, the token where the file says, with the controller's audience.
    const mountOf = (volume: string): string => c.volumeMounts.find((m: { name: string }) => m.name === volume).mountPath;
    const volume = (name: string) => pod.volumes.find((v: { name: string }) => v.name === name);
    assert.equal(volume('root-ca').configMap.name, ROOT_CA_CONFIGMAP);
    assert.equal(env.get(AGENT_ENV.rootCaFile), `${mountOf('root-ca')}/${ROOT_CA_KEY}`);
    const token = volume('controller-token').projected.sources[0].serviceAccountToken;
    assert.equal(env.get(AGENT_ENV.controllerTokenFile), `${mountOf('controller-token')}/${token.path}`);
    const controllerEnv = envOf(find(objs, 'Deployment', 'ambit-controller').spec.template.spec.containers[0]);
    assert.equal(token.audience, controllerEnv.get(CONTROLLER_ENV.agentTokenAudiences));
    assert.equal(volume('bpffs').hostPath.path, '/sys/fs/bpf');
    assert.equal(volume('cgroup').hostPath.path, '/sys/fs/cgroup');
    // The pod root is found by the agent (auto) unless a value names it, below the same mount.
    assert.equal(env.get(AGENT_ENV.cgroupMount), mountOf('cgroup'));
    assert.equal(env.has(AGENT_ENV.podCgroupRoot), false);
    assert.ok(env.get(AGENT_ENV.bpfPinDir)!.startsWith(`${mountOf('bpffs')}/`));

    const named = envOf(find(await render({ 'nodeAgent.podCgroup': 'kubelet.slice/kubelet-kubepods.slice' }), 'DaemonSet', 'ambit-node-agent').spec.template.spec.containers[0]);
    assert.equal(named.get(AGENT_ENV.podCgroupRoot), `${mountOf('cgroup')}/kubelet.slice/kubelet-kubepods.slice`);
    const old = find(await render({ 'nodeAgent.sysAdminForOldKernels': 'true' }), 'DaemonSet', 'ambit-node-agent');
    assert.ok(old.spec.template.spec.containers[0].securityContext.capabilities.add.includes('SYS_ADMIN'));
  });

  it('grants no wildcard, and no Secret beyond the CA', async () => {
    const objs = await render();
    for (const o of objs.filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role')) {
      for (const r of (o as unknown as { rules: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[] }).rules) {
        assert.ok(![...r.apiGroups, ...r.resources, ...r.verbs].includes('*'), `${o.kind} ${o.metadata.name}: ${JSON.stringify(r)}`);
        if (r.resources.includes('secrets')) assert.ok(o.kind === 'Role' && (r.resourceNames?.length === 1 || r.verbs.join() === 'create'), JSON.stringify(r));
      }
    }
  });

  for (const [what, set, mention] of [
    ['an unsupported mTLS mode', { defaultMtlsMode: 'DISABLE' }, 'defaultMtlsMode'],
    ['zero workers', { 'nodeAgent.workers': '0' }, 'workers'],
    ['a trust domain with upper case', { trustDomain: 'Example.ORG' }, 'trustDomain'],
    ['a misspelt section', { 'controler.replicas': '3' }, 'controler'],
    ['a log level that does not exist', { logLevel: 'verbose' }, 'logLevel'],
    ['a duration without unit', { 'controller.certTtl': '24' }, 'certTtl'],
    ['a grace period shorter than the drain', { 'nodeAgent.terminationGracePeriodSeconds': '10' }, 'terminationGracePeriodSeconds'],
  ] as const) {
    it(`refuses ${what}, naming the value`, async () => {
      await assert.rejects(render(set), (err: Error) => {
        assert.match(err.message, /values don't meet the specifications of the schema/);
        assert.ok(err.message.includes(mention), err.message);
        return true;
      });
    });
  }
});
