import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEntry } from '../../lab/apiserver/index.js';
import { releaseObjects, type Release } from '../../lab/chart/release.js';
import { renderChart } from '../../lab/chart/render.js';
import type { KubeObject } from '../../lib/k8s/types.js';
import { atomAllows, atomKey, boundAtoms } from '../chart/rbac-coverage.js';
import { adminGet, applyText, auditLog, chartCopyWith, environ, eventually, fixture, inside, LabHarness, repoRoot, requireRoot, type LabStatusJson } from './harness.js';

/**
 * The mesh run from its Helm chart (`lab up --chart`): the controller Deployment and the
 * agent DaemonSet rendered by real helm, their env and volumes the processes' real inputs,
 * the lab API server authenticating their tokens and enforcing the chart's RBAC. Then the
 * chart's RBAC is compared with the calls the code made, and a verb taken out of the
 * controller's ClusterRole makes the controller fail with the 403 the API server logged.
 */

const CONTROLLER_SA = 'system:serviceaccount:ambit-system:ambit-controller';

/**
 * Rules the run above cannot reach, each with why it is in the chart. Everything else the
 * chart grants must be used by some recorded call: a permission the code stopped using
 * fails this test until the rule (or this entry) goes.
 */
const UNUSED_BY_DESIGN: Readonly<Record<string, string>> = {
  // Never called: clusters with the OwnerReferencesPermissionEnforcement admission plugin check
  // it when the controller sets blockOwnerDeletion on a Waypoint's objects (the lab has no such plugin).
  'ClusterRole ambit-controller: update ambit.dev/waypoints/finalizers': 'admission check only',
};

/**
 * Objects named as the Waypoint's own but made by hand, unlabelled: the controller's create
 * meets 409, it reads the object (get) and adopts it (update), as it would after an upgrade.
 * The trust bundle's copy in the Waypoint's namespace, made by hand with something else in
 * it, is adopted from the cache (update) and given the controller's bundle.
 */
const PRE_EXISTING = `
apiVersion: v1
kind: ConfigMap
metadata: { name: ambit-root-ca, namespace: mesh }
data: { root-cert.pem: not a certificate }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: wp, namespace: mesh }
---
apiVersion: v1
kind: Service
metadata: { name: wp, namespace: mesh }
spec: { ports: [{ name: hbone, port: 15008 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: wp, namespace: mesh }
spec:
  selector: { matchLabels: { app: wp-by-hand } }
  template:
    metadata: { labels: { app: wp-by-hand } }
    spec: { containers: [{ name: sleep, command: [sleep, infinity] }] }
`;

/**
 * Objects a Waypoint that no longer exists owned (its uid is not a live Waypoint's), as left
 * behind when a Waypoint is replaced by a new one of the same name: the controller deletes them.
 */
const ORPHANS = ['ServiceAccount', 'Service', 'Deployment']
  .map((kind) => {
    const meta = `metadata:\n  name: old-wp\n  namespace: mesh\n  labels: { ambit.dev/waypoint: old-wp }\n  ownerReferences: [{ apiVersion: ambit.dev/v1alpha1, kind: Waypoint, name: old-wp, uid: 0b5c1a4e-0000-4000-8000-000000000000, controller: true }]\n`;
    const spec =
      kind === 'Service'
        ? 'spec: { ports: [{ name: hbone, port: 15008 }] }\n'
        : kind === 'Deployment'
          ? 'spec:\n  replicas: 0\n  selector: { matchLabels: { app: old-wp } }\n  template:\n    metadata: { labels: { app: old-wp } }\n    spec: { containers: [{ name: sleep, command: [sleep, infinity] }] }\n'
          : '';
    return `apiVersion: ${kind === 'Deployment' ? 'apps/v1' : 'v1'}\nkind: ${kind}\n${meta}${spec}`;
  })
  .join('---\n')
  // The trust bundle's copy in a namespace where that Waypoint was the last: the controller deletes it.
  .concat(`---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ambit-root-ca
  namespace: plain
  ownerReferences: [{ apiVersion: ambit.dev/v1alpha1, kind: Waypoint, name: old-wp, uid: 0b5c1a4e-0000-4000-8000-000000000000 }]
data: { root-cert.pem: stale }
`);

/** What the test applies so that the controller makes every kind of call it makes in use. */
const EXERCISE = `
apiVersion: ambit.dev/v1alpha1
kind: Waypoint
metadata: { name: wp, namespace: mesh }
spec: { for: service }
---
apiVersion: ambit.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: server-allow, namespace: mesh }
spec:
  selector: { matchLabels: { app: server } }
  action: ALLOW
  rules: [{ from: [{ source: { namespaces: [mesh] } }] }]
---
apiVersion: ambit.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: server-lb, namespace: mesh }
spec:
  targetRefs: [{ kind: Service, name: server }]
  loadBalancer: { type: LeastRequest }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: server-route, namespace: mesh }
spec:
  parentRefs: [{ group: "", kind: Service, name: server, port: 80 }]
  rules: [{ backendRefs: [{ name: server, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: server-grpc, namespace: mesh }
spec:
  parentRefs: [{ group: "", kind: Service, name: server, port: 80 }]
  rules: [{ backendRefs: [{ name: server, port: 80 }] }]
`;

describe('lab up --chart', { timeout: 600_000 }, () => {
  // No garbage collector, as a cluster whose kube-controller-manager is down: the objects of a
  // gone Waypoint (ORPHANS) are then the controller's to delete, which shows it may.
  const lab = new LabHarness({ env: { AMBIT_LAB_GARBAGE_COLLECTOR: 'off' } });
  let st: LabStatusJson;
  let chart: KubeObject[];
  let copy: string;
  const stateDir = () => `/run/ambit/labs/${lab.name}`;
  const audit = () => auditLog(lab);
  const component = (kind: string, node?: string) => st.components.find((c) => c.kind === kind && (node === undefined || c.node === node))!;

  before(async () => {
    requireRoot();
    copy = mkdtempSync(join(tmpdir(), 'ambit-chart-'));
    // A values file, as a user's -f to helm: its values must reach the processes.
    // Two controller replicas, as the chart's default (the lab's own default is one): the
    // handover below kills the leader.
    writeFileSync(join(copy, 'values.yaml'), 'controller:\n  certTtl: 12h\n  replicas: 2\nnodeAgent:\n  workers: 1\n');
    await lab.must(['lab', 'up', '--chart', 'charts/ambit', '--values', join(copy, 'values.yaml'), '-f', fixture('basic.yaml'), '--nodes', '2']);
    st = await lab.status();
    chart = releaseObjects(JSON.parse(readFileSync(join(stateDir(), 'chart-release.json'), 'utf8')) as Release);
  });

  after(async () => {
    await lab.ambit(['lab', 'down']);
    rmSync(copy, { recursive: true, force: true });
  });

  it('runs the controller Deployment and one agent per node from the rendered chart', () => {
    const mesh = st.pods.filter((p) => p.namespace === 'ambit-system');
    assert.equal(mesh.filter((p) => p.name.startsWith('ambit-controller-')).length, 2);
    assert.deepEqual(mesh.filter((p) => p.name.startsWith('ambit-node-agent-')).map((p) => p.node).sort(), ['node1', 'node2']);
    // hostNetwork: the agent's pod has its node's address
    for (const p of mesh.filter((x) => x.name.startsWith('ambit-node-agent-'))) assert.equal(p.ip, st.nodes.find((n) => n.name === p.node)!.ip);
    assert.ok(component('controller').pid && component('node-agent', 'node1').pid && component('node-agent', 'node2').pid);
  });

  it("gives the processes the chart's env (values, downward API) and its volumes at their mount paths", async () => {
    const ctl = environ(component('controller').pid);
    assert.equal(ctl.AMBIT_CERT_TTL, '12h'); // from the values file
    assert.equal(ctl.AMBIT_NAMESPACE, 'ambit-system'); // fieldRef metadata.namespace
    assert.match(ctl.AMBIT_POD_NAME ?? '', /^ambit-controller-/);
    assert.equal(ctl.AMBIT_KUBE_TOKEN, undefined, 'the controller authenticates with its mounted service-account token, not a lab token');
    assert.equal(readFileSync(inside(component('controller').pid, '/var/run/secrets/kubernetes.io/serviceaccount/namespace'), 'utf8'), 'ambit-system');

    const agentPid = component('node-agent', 'node2').pid;
    const agent = environ(agentPid);
    assert.equal(agent.AMBIT_NODE_NAME, 'node2'); // fieldRef spec.nodeName
    assert.equal(agent.AMBIT_NODE_IP, st.nodes.find((n) => n.name === 'node2')!.ip); // fieldRef status.hostIP
    assert.equal(agent.AMBIT_WORKERS, '1');
    assert.match(readFileSync(inside(agentPid, agent.AMBIT_ROOT_CA_FILE!), 'utf8'), /BEGIN CERTIFICATE/);
    assert.ok(readFileSync(inside(agentPid, agent.AMBIT_CONTROLLER_TOKEN_FILE!), 'utf8').length > 20);
    // automountServiceAccountToken: false: the agent holds no API token
    assert.throws(() => readFileSync(inside(agentPid, '/var/run/secrets/kubernetes.io/serviceaccount/token')));
    // nodeAgent.podCgroup auto: the agent found the kubelet's pod root in the node's hierarchy
    // from its own pod (fieldRef metadata.uid), and attached there.
    assert.equal(agent.AMBIT_POD_CGROUP_ROOT, undefined);
    const { redirect } = JSON.parse(await adminGet(lab, component('node-agent', 'node2').admin, '/config_dump')) as { redirect: { cgroupRoot: string; cgroupRootSource: string } };
    assert.equal(redirect.cgroupRoot, `${agent.AMBIT_CGROUP_MOUNT}/kubepods`);
    assert.match(redirect.cgroupRootSource, new RegExp(`^detected: the kubelet's cgroupfs driver layout, from the agent's own pod cgroup kubepods/pod${agent.AMBIT_POD_UID}$`));
  });

  it('carries meshed traffic in mutual TLS between the chart-run agents', async () => {
    const r = await lab.connect('mesh/client', 'server', 80);
    assert.equal(r.reply?.pod, 'server');
    let line = '';
    const seen = await eventually(async () => {
      const metrics = await adminGet(lab, component('node-agent', 'node2').admin, '/metrics');
      line = metrics.split('\n').find((l) => l.startsWith('ambit_tcp_connections_opened_total{') && l.includes('source_workload="client"')) ?? '';
      return line !== '';
    });
    assert.ok(seen, 'the destination agent counted the connection');
    assert.match(line, /connection_security_policy="mutual_tls"/);
    assert.match(line, /source_principal="cluster.local\/ns\/mesh\/sa\/default"/);
  });

  it("refuses an invalid Ambit object at admission with the chart's CRD schema, as a cluster's API server does", async () => {
    const file = join(copy, 'bad-waypoint.yaml');
    writeFileSync(file, 'apiVersion: ambit.dev/v1alpha1\nkind: Waypoint\nmetadata: { name: bad, namespace: mesh }\nspec: { for: everything, replicas: 2 }\n');
    const r = await lab.ambit(['lab', 'kubectl', 'apply', '-f', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /The Waypoint "bad" is invalid: spec\.for: must be one of service, workload, all \(got "everything"\)/);
    assert.equal((await lab.ambit(['lab', 'kubectl', '-n', 'mesh', 'get', 'waypoint', 'bad'])).code, 1, 'nothing was stored');
  });

  it("uses every permission the chart grants, and needs none it does not (RBAC vs the code's calls)", async () => {
    const controllerCalls = () => audit().filter((e) => e.user === CONTROLLER_SA && e.request);
    const called = (verb: string, resource: string, subresource?: string) => controllerCalls().some((e) => e.request!.verb === verb && e.request!.resource === resource && e.request!.subresource === subresource);
    await applyText(lab, PRE_EXISTING);
    await applyText(lab, EXERCISE);
    // The controller adopts the Waypoint's objects and writes every policy's and route's status.
    const adopted = await eventually(async () => ['deployments', 'services', 'serviceaccounts'].every((r) => called('get', r) && called('update', r)) && called('update', 'configmaps') && called('patch', 'trafficpolicies', 'status') && called('patch', 'grpcroutes', 'status'), 120);
    assert.ok(adopted, `the controller did not adopt the Waypoint's objects and write status: ${JSON.stringify(controllerCalls().map((e) => e.request).slice(-20))}`);
    // The Waypoint's Service deleted twice is created twice: the second Event is the first one's series (a patch).
    for (let i = 0; i < 2; i++) {
      await lab.must(['lab', 'kubectl', '-n', 'mesh', 'delete', 'service', 'wp']);
      assert.ok(await eventually(async () => (await lab.ambit(['lab', 'kubectl', '-n', 'mesh', 'get', 'service', 'wp', '-o', 'name'])).code === 0, 120), 'the controller did not create the Service anew');
    }
    assert.ok(await eventually(async () => called('create', 'events') && called('patch', 'events'), 120), 'the controller did not create and patch Events');
    // As operators see them: kubectl reads the core Events the controller wrote through events.k8s.io.
    const events = await lab.must(['lab', 'kubectl', '-n', 'mesh', 'get', 'events', '-o', 'wide']);
    assert.match(events, /Normal\s+SuccessfulCreate\s+waypoint\/wp\s+\S*\s*ambit\.dev\/controller, ambit-controller-\S+\s+Created Service mesh\/wp\.\s+\S+\s+2\s/);
    const described = await lab.must(['lab', 'kubectl', '-n', 'mesh', 'describe', 'waypoint', 'wp']);
    assert.match(described, /Normal\s+SuccessfulCreate\s+\S+ \(x2 over \S+\)\s+ambit\.dev\/controller\s+Created Service mesh\/wp\./);
    await applyText(lab, ORPHANS);
    // The controller deletes what a gone Waypoint owned (with a collector running, it races the collector to it).
    assert.ok(await eventually(async () => ['deployments', 'services', 'serviceaccounts', 'configmaps'].every((r) => called('delete', r)), 120), 'the controller did not delete the Waypoint\'s objects');
    const calls = audit().filter((e) => e.request && e.user.startsWith('system:serviceaccount:ambit-system:'));
    const refused = calls.filter((e) => !e.allowed);
    assert.deepEqual(refused.map((e) => e.reason), [], 'a component was refused a call the chart must grant');

    const atoms = [...boundAtoms(chart, 'ambit-system/ambit-controller'), ...boundAtoms(chart, 'ambit-system/ambit-node-agent')];
    const keys = new Set(atoms.map(atomKey));
    for (const k of Object.keys(UNUSED_BY_DESIGN)) assert.ok(keys.has(k), `allow-list entry ${JSON.stringify(k)} is no longer in the chart: remove it`);
    const unused = atoms.filter((a) => !calls.some((e) => atomAllows(a, e.request!))).map(atomKey);
    assert.deepEqual(unused.filter((k) => !(k in UNUSED_BY_DESIGN)), [], 'the chart grants permissions no call used: drop them or list them, with why, in UNUSED_BY_DESIGN');
    const usedAnyway = Object.keys(UNUSED_BY_DESIGN).filter((k) => !unused.includes(k));
    assert.deepEqual(usedAnyway, [], 'these allow-listed rules are now used: take them off UNUSED_BY_DESIGN');
  });

  it('hands the Lease to the other replica within a lease duration when the leader freezes; that one writes status, the old one steps down', async (t) => {
    type LeaderView = { leading: boolean; identity: string; leader: string };
    const view = async (c: LabStatusJson['components'][number]) => JSON.parse(await adminGet(lab, c.admin, '/debug/leader')) as LeaderView;
    const holder = async () => (JSON.parse(await lab.must(['lab', 'kubectl', '-n', 'ambit-system', 'get', 'lease', 'ambit-controller', '-o', 'json'])) as { spec: { holderIdentity: string; leaseTransitions?: number } }).spec;
    st = await lab.status();
    const replicas = st.components.filter((c) => c.kind === 'controller');
    assert.equal(replicas.length, 2);
    const views = await Promise.all(replicas.map(async (c) => ({ c, v: await view(c) })));
    const leader = views.find((x) => x.v.leading);
    const follower = views.find((x) => !x.v.leading);
    assert.ok(leader && follower, `one leader and one follower: ${JSON.stringify(views.map((x) => x.v))}`);
    const before = await holder();
    assert.equal(before.holderIdentity, leader.v.identity);

    // SIGSTOP: the leader neither renews nor says goodbye, as on a partitioned or hung node.
    process.kill(leader.c.pid!, 'SIGSTOP');
    const frozeAt = Date.now();
    try {
      await applyText(lab, 'apiVersion: ambit.dev/v1alpha1\nkind: AuthorizationPolicy\nmetadata: { name: after-handover, namespace: mesh }\nspec: { selector: { matchLabels: { app: server } }, action: ALLOW, rules: [{ from: [{ source: { namespaces: [mesh] } }] }] }\n');
      // The chart's lease is 15 s and its retry period 2 s: the follower takes over at most a
      // lease duration after the leader's last renewal plus one jittered retry (2.4 s); 10 s
      // more for a loaded machine, so a follower that waited for nothing still fails this.
      let took = -1;
      assert.ok(await eventually(async () => {
        if ((await holder()).holderIdentity !== follower.v.identity) return false;
        took = Date.now() - frozeAt;
        return true;
      }, 110, 250), 'the follower never took the Lease');
      t.diagnostic(`the follower took the Lease ${took} ms after the leader froze`);
      assert.ok(took <= 15_000 + 2_400 + 10_000, `the follower took the Lease ${took} ms after the leader froze`);
      assert.equal((await holder()).leaseTransitions, (before.leaseTransitions ?? 0) + 1);
      assert.equal((await view(follower.c)).leading, true);
      // The new leader writes the status the frozen one never wrote.
      assert.ok(await eventually(async () => {
        const out = await lab.must(['lab', 'kubectl', '-n', 'mesh', 'get', 'authorizationpolicy', 'after-handover', '-o', 'json']);
        const conditions = (JSON.parse(out) as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? [];
        return conditions.some((c) => c.type === 'Accepted' && c.status === 'True');
      }, 80, 250), 'the new leader did not write the policy status');
    } finally {
      process.kill(leader.c.pid!, 'SIGCONT');
    }
    // Thawed, the old leader finds the Lease held by another and steps down; it does not take it back.
    assert.ok(await eventually(async () => !(await view(leader.c)).leading, 60, 250), 'the old leader still thinks it leads');
    assert.equal((await holder()).holderIdentity, follower.v.identity);
    assert.equal((await view(leader.c)).leader, follower.v.identity);
  });

  it('fails a component exactly as a cluster would when its ClusterRole lacks a verb', async () => {
    // A test copy of the chart with `watch` taken out of the controller's first rule (namespaces, pods, nodes).
    const cut = chartCopyWith(copy, 'controller-rbac.yaml', 'resources: [namespaces, pods, nodes]\n    verbs: [list, watch]', 'resources: [namespaces, pods, nodes]\n    verbs: [list]');
    const broken = (await renderChart({ chartDir: cut, repoRoot })).find((o) => o.kind === 'ClusterRole')!;
    writeFileSync(join(copy, 'broken-role.json'), JSON.stringify(broken));
    await lab.must(['lab', 'kubectl', 'apply', '-f', join(copy, 'broken-role.json')]);
    const since = new Date().toISOString();
    // A new controller pod starts its informers under the cut role.
    await lab.must(['lab', 'kubectl', '-n', 'ambit-system', 'delete', 'pod', '-l', 'app.kubernetes.io/name=ambit-controller']);
    let denied: AuditEntry | undefined;
    // Up to a minute: the lab's kubelet stops deleted pods within its loop, and a waypoint pod
    // rolled by the test above may still be in its 30 s grace period.
    assert.ok(await eventually(async () => (denied = audit().find((e) => e.time >= since && e.user === CONTROLLER_SA && !e.allowed && e.request?.resource === 'pods')) !== undefined, 240), 'no 403 for the new controller pod\'s watch of pods');
    assert.deepEqual(denied!.request, { verb: 'watch', apiGroup: '', resource: 'pods' });
    assert.equal(denied!.reason, `pods is forbidden: User "${CONTROLLER_SA}" cannot watch resource "pods" in API group "" at the cluster scope`);
    // ... and the controller saw the 403 (client-node reports it as Forbidden) and keeps retrying.
    st = await lab.status();
    assert.ok(await eventually(async () => {
      st = await lab.status();
      const log = component('controller').log;
      return readFileSync(log, 'utf8').split('\n').some((l) => l.includes('"path":"/api/v1/pods"') && l.includes('Forbidden'));
    }, 120), 'the controller did not log the 403');
    // Putting the verb back heals it without a restart: the retried watch is allowed.
    const original = chart.find((o) => o.kind === 'ClusterRole')!;
    writeFileSync(join(copy, 'role.json'), JSON.stringify(original));
    await lab.must(['lab', 'kubectl', 'apply', '-f', join(copy, 'role.json')]);
    const healed = new Date().toISOString();
    const rewatched = await eventually(async () => audit().some((e) => e.time >= healed && e.user === CONTROLLER_SA && e.allowed && e.request?.verb === 'watch' && e.request.resource === 'pods'), 240);
    if (!rewatched) {
      // What the controllers and the API server did after the heal, for whoever reads the failure.
      st = await lab.status();
      const logs = st.components.filter((c) => c.kind === 'controller').map((c) => `${c.log} (pid ${c.pid}):\n${readFileSync(c.log, 'utf8').split('\n').filter((l) => l.includes('"level":40') || l.includes('"level":50')).slice(-15).join('\n')}`);
      const calls = audit().filter((e) => e.time >= healed && e.user === CONTROLLER_SA).slice(-30).map((e) => JSON.stringify(e));
      assert.fail(`the controller's watch of pods was not allowed again within 60 s\n${logs.join('\n')}\ncalls after the heal:\n${calls.join('\n')}`);
    }
  });
});
