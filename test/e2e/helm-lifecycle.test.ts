import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import type { Release } from '../../lab/chart/release.js';
import { atomAllows, atomKey, boundAtoms } from '../chart/rbac-coverage.js';
import { adminGet, applyText, auditLog, chartCopyWith, Conns, environ, eventually, fixture, inLabNetns, LabHarness, requireRoot, sleep, type LabStatusJson } from './harness.js';

/**
 * The release's life in the lab, as `helm upgrade` and `helm uninstall` would play it on a
 * cluster. `lab upgrade` with values that change both pod templates: the agents roll one node
 * at a time, each new agent ready before its old one goes (maxSurge 1, maxUnavailable 0, as
 * the API server's own watch of the pods shows), the controller the same, and a connection
 * open across the rollout keeps carrying data. A hook Role missing a verb fails the uninstall
 * as on a cluster: the Job's 403, nothing deleted. Then `lab uninstall`: the chart's pre-delete
 * Job runs through the lab's kubelet with its own token and Role (every call allowed, every
 * rule used), the agents detach on exit, and every node is left without pinned programs,
 * nftables table or policy route; the CRDs and the user's policies stay.
 */

const HOOK_SA = 'system:serviceaccount:ambit-system:ambit-uninstall';
/** The values of the release after the upgrade: each changes one workload's pod template. */
const UPGRADED = ['--set', 'nodeAgent.workers=2', '--set', 'controller.certTtl=12h'];

interface PodEvent {
  seq: number;
  /** When the watch delivered it (ms since the epoch). */
  at: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  name: string;
  app?: string;
  node?: string;
  hash?: string;
  ready: boolean;
}

/** A fixture script run in the lab's fabric namespace, one JSON line per thing it saw. */
class FabricFollower<T> {
  readonly lines: T[] = [];
  private readonly child: ChildProcess;

  constructor(lab: LabHarness, script: string, args: string[]) {
    this.child = spawn('nsenter', [`--net=/run/netns/ambit-${lab.name}-fabric`, process.execPath, fixture(script), ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    createInterface({ input: this.child.stdout! }).on('line', (l) => this.lines.push(JSON.parse(l) as T));
  }

  /** The first line (in the order seen) matching `f`. */
  first(f: (line: T) => boolean): T | undefined {
    return this.lines.find(f);
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}

/** The pods of ambit-system as the lab API server streams them (fixtures/watch-pods.mjs). */
const watchPods = (lab: LabHarness) => new FabricFollower<PodEvent>(lab, 'watch-pods.mjs', ['http://127.0.0.1:6443/api/v1/namespaces/ambit-system/pods?watch=1']);

describe('helm upgrade and uninstall in the lab', { timeout: 420_000 }, () => {
  const lab = new LabHarness();
  let st: LabStatusJson;
  let copy: string;
  let watch: FabricFollower<PodEvent> | undefined;
  let conns: Conns | undefined;
  const stateDir = () => `/run/ambit/labs/${lab.name}`;
  const audit = () => auditLog(lab);
  const agents = () => st.components.filter((c) => c.kind === 'node-agent');
  const kubectlJson = async (...args: string[]) => JSON.parse(await lab.must(['lab', 'kubectl', ...args, '-o', 'json'])) as { items?: { metadata: { name: string } }[] };
  const exists = async (...args: string[]) => (await lab.ambit(['lab', 'kubectl', 'get', ...args], 30_000)).code === 0;
  const pinDir = (node: string) => `/sys/fs/bpf/ambit-${lab.name}-${node}`;
  /** The capture state a node agent leaves in the kernel of its node: pins, nftables table, policy route. */
  const nodeState = async (node: string) => ({
    pins: existsSync(pinDir(node)) ? readdirSync(pinDir(node)) : [],
    table: /ambit_inbound/.test((await inLabNetns(lab, node, ['nft', 'list', 'tables'])).stdout),
    rule: /lookup 1440/.test((await inLabNetns(lab, node, ['ip', 'rule'])).stdout),
  });

  before(async () => {
    requireRoot();
    copy = mkdtempSync(join(tmpdir(), 'ambit-helm-'));
    await lab.must(['lab', 'up', '--chart', 'charts/ambit', '--set', 'nodeAgent.workers=1', '-f', fixture('basic.yaml'), '-f', fixture('handover.yaml'), '--nodes', '2']);
    st = await lab.status();
  });

  after(async () => {
    watch?.stop();
    conns?.stop();
    conns?.kill();
    await lab.ambit(['lab', 'down']);
    rmSync(copy, { recursive: true, force: true });
  });

  it('carries meshed traffic in mutual TLS', async () => {
    assert.equal((await lab.connect('mesh/client', 'server', 80)).reply?.pod, 'server');
    const node2 = agents().find((a) => a.node === 'node2')!;
    let line = '';
    assert.ok(await eventually(async () => (line = (await adminGet(lab, node2.admin, '/metrics')).split('\n').find((l) => l.startsWith('ambit_tcp_connections_opened_total{') && l.includes('source_workload="client"')) ?? '') !== ''), 'the destination agent counted the connection');
    assert.match(line, /connection_security_policy="mutual_tls"/);
  });

  it('lab upgrade rolls the agents one node at a time, each new one ready before the old one goes, and the controller, keeping an open connection', async (t) => {
    const far = st.pods.find((p) => p.namespace === 'roll' && p.name === 'far')!;
    const before = new Map(agents().map((a) => [a.node!, a.pid]));
    const oldController = st.components.find((c) => c.kind === 'controller')!;
    watch = watchPods(lab);
    conns = new Conns(lab, 'roll/client');
    const held = await conns.open(far.ip, 9000);
    assert.ok(await eventually(async () => watch!.lines.filter((e) => e.app === 'ambit-node-agent').length === 2), 'the watch lists the agents');
    const oldHash = watch.first((e) => e.app === 'ambit-node-agent')!.hash;
    const oldAgentGone = (node: string) => watch!.first((e) => e.type === 'DELETED' && e.app === 'ambit-node-agent' && e.node === node && e.hash === oldHash);
    const started = Date.now();
    let done = false;
    const upgrading = lab.must(['lab', 'upgrade', '--chart', 'charts/ambit', ...UPGRADED]).finally(() => (done = true));
    // The held connection crosses both agents (client on node1, server on node2). Each old agent
    // drains it (up to 20 s, the chart's hand-over design) while its successor takes new
    // connections: it must carry data all through, until both of its agents were replaced.
    const pings: { at: number; echo?: string; error?: string }[] = [];
    let replaced = false;
    while (!replaced) {
      replaced = oldAgentGone('node1') !== undefined && oldAgentGone('node2') !== undefined;
      pings.push({ at: Date.now() - started, ...(await conns.ping(held.id)) });
      if (!replaced && Date.now() - started > 120_000) assert.fail(`the agents did not roll within 120 s: ${JSON.stringify(watch.lines)}`);
      if (!replaced) await sleep(1000);
    }
    assert.deepEqual(pings.filter((p) => !p.echo), [], `pings from the upgrade's start until both agents were replaced: ${JSON.stringify(pings)}`);
    await conns.close(held.id);
    const out = await upgrading;
    t.diagnostic(`lab upgrade took ${((Date.now() - started) / 1000).toFixed(1)}s; the held connection echoed ${pings.length} pings, the last ${pings.at(-1)!.at} ms in, after both old agents were deleted`);
    assert.ok(done);

    assert.match(out, /^daemonset\/ambit-node-agent \(ambit-system\) configured$/m);
    assert.match(out, /^deployment\/ambit-controller \(ambit-system\) configured$/m);
    assert.match(out, /^serviceaccount\/ambit-controller \(ambit-system\) unchanged$/m);
    assert.match(out, /^customresourcedefinition\/waypoints\.ambit\.dev left as installed \(helm never upgrades crds\/\)$/m);
    assert.match(out, /^release ambit upgraded and rolled out in /m);

    // The rollout as the API server saw it: per node, the new agent ready before the old one was
    // deleted; node by node, the next surge only once the previous node's old agent was gone.
    await sleep(500); // the watch stream's last events
    const ev = watch.lines;
    const agentPods = ev.filter((e) => e.app === 'ambit-node-agent');
    const since = (e: PodEvent | undefined) => (e ? `${e.at - started} ms` : '-');
    const rolls = ['node1', 'node2'].map((node) => {
      const added = agentPods.find((e) => e.type === 'ADDED' && e.node === node && e.hash !== oldHash);
      const ready = agentPods.find((e) => e.node === node && e.hash !== oldHash && e.ready);
      const oldGone = agentPods.find((e) => e.type === 'DELETED' && e.node === node && e.hash === oldHash);
      assert.ok(added && ready && oldGone, `${node}: a new agent was added and became ready, and the old one was deleted: ${JSON.stringify(agentPods.filter((e) => e.node === node))}`);
      assert.ok(ready.seq < oldGone.seq, `${node}: the new agent was ready (event ${ready.seq}) before the old one was deleted (event ${oldGone.seq})`);
      t.diagnostic(`${node}: new agent added at ${since(added)}, ready at ${since(ready)}, old one deleted at ${since(oldGone)}`);
      return { node, added: added.seq, ready: ready.seq };
    });
    const [first, second] = rolls.sort((a, b) => a.added - b.added);
    assert.ok(second!.added > first!.ready, `maxSurge 1, one node at a time: ${second!.node}'s new agent (event ${second!.added}) came only once ${first!.node}'s was ready (event ${first!.ready})`);
    const ctl = ev.filter((e) => e.app === 'ambit-controller');
    const ctlOld = ctl[0]!.hash;
    const ctlReady = ctl.find((e) => e.hash !== ctlOld && e.ready);
    const ctlGone = ctl.find((e) => e.type === 'DELETED' && e.hash === ctlOld);
    assert.ok(ctlReady && ctlGone && ctlReady.seq < ctlGone.seq, `the new controller was ready before the old one went: ${JSON.stringify(ctl)}`);
    watch.stop();

    st = await lab.status();
    for (const a of agents()) {
      assert.notEqual(a.pid, before.get(a.node!), `a new agent runs on ${a.node}`);
      assert.equal(environ(a.pid).AMBIT_WORKERS, '2');
      // Its pod turned Ready from its own readiness (the exec probe of its file), not from the
      // old agent answering on the node's shared 15020: the agent logged its readiness first.
      const readyLine = readFileSync(a.log, 'utf8').split('\n').find((l) => l.includes('"msg":"ready: the readiness file is written"'));
      assert.ok(readyLine, `the new agent on ${a.node} logged its readiness`);
      const podReady = agentPods.find((e) => e.node === a.node && e.hash !== oldHash && e.ready)!;
      assert.ok(Date.parse((JSON.parse(readyLine) as { time: string }).time) <= podReady.at, `${a.node}: the agent was ready before its pod was`);
    }
    const controller = st.components.find((c) => c.kind === 'controller')!;
    assert.notEqual(controller.pid, oldController.pid);
    assert.equal(environ(controller.pid).AMBIT_CERT_TTL, '12h');
    // New connections go through the new agents, still in mutual TLS.
    assert.equal((await lab.connect('mesh/client', 'server', 80)).reply?.pod, 'server');
    const node2 = agents().find((a) => a.node === 'node2')!;
    assert.ok(await eventually(async () => (await adminGet(lab, node2.admin, '/metrics')).split('\n').some((l) => l.startsWith('ambit_tcp_connections_opened_total{') && l.includes('source_workload="client"') && l.includes('mutual_tls'))), 'the new destination agent carried a new connection in mutual TLS');
  });

  it("lab upgrade keeps what someone else added to a list the chart also sets, as helm's strategic merge does", async () => {
    await lab.must(['lab', 'kubectl', '-n', 'ambit-system', 'set', 'env', 'deployment/ambit-controller', 'OPERATOR_NOTE=kept']);
    await lab.must(['lab', 'kubectl', '-n', 'ambit-system', 'rollout', 'status', 'deployment/ambit-controller', '--timeout=120s']);
    const out = await lab.must(['lab', 'upgrade', '--chart', 'charts/ambit', ...UPGRADED]);
    assert.match(out, /^deployment\/ambit-controller \(ambit-system\) unchanged$/m, 'the chart did not change, so neither does the merged Deployment');
    const env = (JSON.parse(await lab.must(['lab', 'kubectl', '-n', 'ambit-system', 'get', 'deployment', 'ambit-controller', '-o', 'json'])) as { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } }).spec.template.spec.containers[0]!.env;
    assert.deepEqual(env.filter((e) => e.name === 'OPERATOR_NOTE' || e.name === 'AMBIT_CERT_TTL'), [{ name: 'AMBIT_CERT_TTL', value: '12h' }, { name: 'OPERATOR_NOTE', value: 'kept' }]);
  });

  it("lab uninstall fails as helm's would when the hook's Role lacks a verb: the Job's 403 in the message, nothing deleted", async () => {
    const rule = 'resources: [daemonsets]\n    resourceNames: [{{ include "ambit.nodeAgent" . }}]\n    verbs: [get';
    const cut = chartCopyWith(copy, 'uninstall-hook.yaml', `${rule}, update]`, `${rule}]`);
    // Only the hook changes: nothing rolls.
    const quiet = await lab.must(['lab', 'upgrade', '--chart', cut, ...UPGRADED]);
    assert.doesNotMatch(quiet, / configured$/m);
    const since = new Date().toISOString();
    const r = await lab.ambit(['lab', 'uninstall', '--timeout', '90s']);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /pre-delete hook Job ambit-system\/ambit-uninstall failed: job failed: BackoffLimitExceeded/);
    assert.match(r.stderr, /cannot update resource \W*daemonsets\W* in API group \W*apps/, "the failure shows the Job pods' logs");
    const denied = audit().filter((e) => e.time >= since && e.user === HOOK_SA && !e.allowed);
    assert.ok(denied.length > 0 && denied.every((e) => e.request?.verb === 'update' && e.request.resource === 'daemonsets'), JSON.stringify(denied));
    assert.ok(await exists('daemonset', 'ambit-node-agent', '-n', 'ambit-system'), 'the release is still installed');
    assert.ok(await exists('configmap', 'ambit-root-ca', '-n', 'ambit-system'));
    assert.equal((await kubectlJson('get', 'pods', '-n', 'ambit-system', '-l', 'batch.kubernetes.io/job-name=ambit-uninstall')).items?.length, 3, 'backoffLimit 2: three tries, kept for their logs');
    // The good chart back: its hook replaces the failed one (before-hook-creation) below.
    await lab.must(['lab', 'upgrade', '--chart', 'charts/ambit', ...UPGRADED]);
  });

  it("lab uninstall runs the pre-delete hook with its own RBAC, deletes the release, and leaves no agent state on any node; CRDs and the user's policies stay", async (t) => {
    await applyText(lab, 'apiVersion: ambit.dev/v1alpha1\nkind: AuthorizationPolicy\nmetadata: { name: mine, namespace: mesh }\nspec: { selector: { matchLabels: { app: server } }, action: ALLOW, rules: [{ from: [{ source: { namespaces: [mesh] } }] }] }\n');
    st = await lab.status();
    for (const n of st.nodes) {
      const s = await nodeState(n.name);
      assert.ok(s.pins.length > 0 && s.table && s.rule, `${n.name} holds the agent's state before the uninstall: ${JSON.stringify(s)}`);
    }
    // The trust bundle is owned by the controller's Deployment, so it goes with it even if a stopping replica writes it back.
    type Owned = { metadata: { uid: string; ownerReferences?: { kind: string; name: string; uid: string }[] } };
    const controller = JSON.parse(await lab.must(['lab', 'kubectl', '-n', 'ambit-system', 'get', 'deployment', 'ambit-controller', '-o', 'json'])) as Owned;
    const bundle = JSON.parse(await lab.must(['lab', 'kubectl', '-n', 'ambit-system', 'get', 'configmap', 'ambit-root-ca', '-o', 'json'])) as Owned;
    assert.deepEqual(bundle.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [['Deployment', 'ambit-controller', controller.metadata.uid]]);
    const hooks = (JSON.parse(readFileSync(join(stateDir(), 'chart-release.json'), 'utf8')) as Release).hooks;
    const since = new Date().toISOString();
    const started = Date.now();
    const out = await lab.must(['lab', 'uninstall']);
    t.diagnostic(`lab uninstall took ${((Date.now() - started) / 1000).toFixed(1)}s`);
    assert.match(out, /^pre-delete hook Job ambit-system\/ambit-uninstall: succeeded in [\d.]+s \(deleted: hook-succeeded\)$/m);
    assert.match(out, /^pre-delete hook ServiceAccount ambit-system\/ambit-uninstall: created \(deleted: hook-succeeded\)$/m);
    assert.match(out, /^daemonset\/ambit-node-agent \(ambit-system\) deleted$/m);
    assert.match(out, /^deployment\/ambit-controller \(ambit-system\) deleted$/m);
    assert.match(out, /^customresourcedefinition\/authorizationpolicies\.ambit\.dev left as installed/m);

    // The hook's calls: all allowed by its Role, and every rule of the Role used.
    const calls = audit().filter((e) => e.time >= since && e.user === HOOK_SA && e.request);
    assert.deepEqual(calls.filter((e) => !e.allowed).map((e) => e.reason), []);
    for (const [verb, resource] of [['get', 'daemonsets'], ['update', 'daemonsets'], ['delete', 'configmaps']] as const) {
      assert.ok(calls.some((e) => e.request!.verb === verb && e.request!.resource === resource), `the hook called ${verb} ${resource}`);
    }
    const unused = boundAtoms(hooks, 'ambit-system/ambit-uninstall').filter((a) => !calls.some((e) => atomAllows(a, e.request!))).map(atomKey);
    assert.deepEqual(unused, [], "the hook's Role grants permissions it never used");

    assert.equal(await exists('configmap', 'ambit-root-ca', '-n', 'ambit-system'), false, 'the trust bundle ConfigMap is gone');
    assert.equal(await exists('daemonset', 'ambit-node-agent', '-n', 'ambit-system'), false);
    assert.equal(await exists('deployment', 'ambit-controller', '-n', 'ambit-system'), false);
    assert.equal(await exists('job', 'ambit-uninstall', '-n', 'ambit-system'), false, 'hook-succeeded deleted the Job');
    assert.equal(await exists('serviceaccount', 'ambit-uninstall', '-n', 'ambit-system'), false);
    assert.equal((await kubectlJson('get', 'pods', '-n', 'ambit-system')).items?.length, 0, 'no pod of the release is left');
    assert.equal((await kubectlJson('get', 'crd')).items?.filter((c) => c.metadata.name.endsWith('.ambit.dev')).length, 4, 'helm never deletes crds/');
    assert.ok(await exists('authorizationpolicy', 'mine', '-n', 'mesh'), "the user's policy stays");
    assert.ok(await exists('secret', 'ambit-ca', '-n', 'ambit-system'), 'the mesh CA stays, for a reinstall');
    st = await lab.status();
    assert.deepEqual(st.components.filter((c) => c.kind === 'controller' || c.kind === 'node-agent'), []);
    for (const n of st.nodes) {
      assert.deepEqual(await nodeState(n.name), { pins: [], table: false, rule: false }, `${n.name}: the agent detached on exit`);
    }
    // Without the mesh, pods reach each other directly again.
    assert.equal((await lab.connect('mesh/client', 'server', 80)).reply?.pod, 'server');
  });
});
