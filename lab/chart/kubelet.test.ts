import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { loadControllerConfig, waypointTemplate } from '../../controller/config.js';
import { desiredObjects } from '../../controller/waypoints/index.js';
import type { KubeObject } from '../../lib/k8s/types.js';
import { Kubelet, mapHostPath, PodConfigError } from './kubelet.js';
import { chartImages, imageRepository } from './mesh.js';
import { LAB_RELEASE, renderChart } from './render.js';

const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');

/** A pod as the lab's DaemonSet/Deployment controller makes it from a rendered template, bound to node1. */
function podFrom(workload: KubeObject, name: string, namespace: string = LAB_RELEASE.namespace): KubeObject {
  const template = (workload.spec as { template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } }).template;
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, uid: `uid-${name}`, labels: template.metadata.labels }, spec: { ...template.spec, nodeName: 'node1' }, status: { hostIP: '10.200.0.10', podIP: name.includes('agent') ? '10.200.0.10' : '10.244.1.2' } } as KubeObject;
}

/** The argv after withMounts' `sh -c SCRIPT ambit-mounts (src dst mode)... --`, and the mounts. */
function split(argv: string[]): { mounts: { source: string; target: string; mode: string }[]; command: string[] } {
  const sep = argv.indexOf('--');
  const triples = argv.slice(4, sep);
  const mounts = [];
  for (let i = 0; i < triples.length; i += 3) mounts.push({ source: triples[i]!, target: triples[i + 1]!, mode: triples[i + 2]! });
  return { mounts, command: argv.slice(sep + 1) };
}

describe('the lab kubelet on the rendered chart', () => {
  let objects: KubeObject[];
  let dir: string;
  let now = 1_000_000;
  const configMaps = new Map<string, Record<string, string>>();
  const minted: { audience: string; pod: string }[] = [];
  let kubelet: Kubelet;

  before(async () => {
    objects = await renderChart({ chartDir: join(repoRoot, 'charts', 'ambit'), repoRoot, set: { trustDomain: 'lab.test' } });
    dir = mkdtempSync(join(tmpdir(), 'kubelet-'));
    kubelet = new Kubelet({
      lookup: { configMap: (ns, n) => configMaps.get(`${ns}/${n}`), secret: () => undefined },
      mintToken: (pod, audience, seconds) => {
        minted.push({ audience, pod: pod.metadata.name });
        return { token: `token-${minted.length}-${audience || 'api'}`, expiresAt: now + seconds * 1000 };
      },
      apiCaCert: 'API-CA',
      apiService: { host: '10.200.0.1', port: 6444 },
      ambitEntrypoint: ['node', '/repo/bin/ambit-component'],
      isAmbitImage: (image) => chartImages(objects).has(imageRepository(image)),
      hostPath: (node, path) => mapHostPath({ '/sys/fs/bpf': `/sys/fs/bpf/lab-${node}`, '/sys/fs/cgroup': `/cg/lab/nodes/${node}` }, path),
      workingDir: '/repo',
      now: () => now,
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const agentDs = () => objects.find((o) => o.kind === 'DaemonSet')!;
  const controllerDeploy = () => objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'ambit-controller')!;

  it('holds the agent until the trust bundle ConfigMap exists', () => {
    assert.ok(kubelet.handles(podFrom(agentDs(), 'ambit-node-agent-a')));
    assert.throws(() => kubelet.containers(podFrom(agentDs(), 'ambit-node-agent-a'), 'node1', join(dir, 'agent'), undefined), (err: unknown) => err instanceof PodConfigError && /configmap "ambit-root-ca" not found/.test(err.message));
  });

  it("runs the agent with the chart's env, entrypoint and volumes at their mount paths", () => {
    configMaps.set('ambit-system/ambit-root-ca', { 'root-cert.pem': 'ROOT-1' });
    const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'ambit-node-agent');
    const [c] = kubelet.containers(podFrom(agentDs(), 'ambit-node-agent-a'), 'node1', join(dir, 'agent'), sa);
    assert.ok(c);
    assert.equal(c.env.AMBIT_NODE_NAME, 'node1');
    assert.equal(c.env.AMBIT_NODE_IP, '10.200.0.10');
    assert.equal(c.env.AMBIT_TRUST_DOMAIN, 'lab.test');
    assert.equal(c.env.AMBIT_CONTROLLER_TOKEN_FILE, '/var/run/secrets/ambit/tokens/controller-token');
    // The agent finds the pod root in the node's hierarchy by its own pod, as on a cluster.
    assert.equal(c.env.AMBIT_POD_CGROUP_ROOT, undefined);
    assert.equal(c.env.AMBIT_CGROUP_MOUNT, '/run/ambit/cgroup');
    assert.equal(c.env.AMBIT_POD_UID, 'uid-ambit-node-agent-a');
    const { mounts, command } = split(c.argv);
    assert.deepEqual(command, ['node', '/repo/bin/ambit-component', 'node-agent']);
    const at = (target: string) => mounts.find((m) => m.target === target);
    assert.equal(at('/sys/fs/bpf')?.source, '/sys/fs/bpf/lab-node1');
    assert.deepEqual(at('/run/ambit/cgroup'), { source: '/cg/lab/nodes/node1', target: '/run/ambit/cgroup', mode: 'ro' });
    // automountServiceAccountToken: false on the pod and its ServiceAccount: no API token
    assert.equal(at('/var/run/secrets/kubernetes.io/serviceaccount'), undefined);
    assert.equal(readFileSync(join(at('/var/run/ambit/root-ca')!.source, 'root-cert.pem'), 'utf8'), 'ROOT-1');
    assert.equal(readFileSync(join(at('/var/run/secrets/ambit/tokens')!.source, 'controller-token'), 'utf8'), 'token-1-ambit-controller');
    assert.deepEqual(minted, [{ audience: 'ambit-controller', pod: 'ambit-node-agent-a' }]);
  });

  it('gives the controller the API token, CA and namespace, and KUBERNETES_SERVICE_*', () => {
    const [c] = kubelet.containers(podFrom(controllerDeploy(), 'ambit-controller-x'), 'node1', join(dir, 'controller'), undefined);
    assert.ok(c);
    assert.equal(c.env.KUBERNETES_SERVICE_HOST, '10.200.0.1');
    assert.equal(c.env.KUBERNETES_SERVICE_PORT, '6444');
    assert.equal(c.env.AMBIT_NAMESPACE, 'ambit-system');
    assert.equal(c.env.AMBIT_POD_NAME, 'ambit-controller-x');
    const api = split(c.argv).mounts.find((m) => m.target === '/var/run/secrets/kubernetes.io/serviceaccount')!;
    assert.equal(readFileSync(join(api.source, 'ca.crt'), 'utf8'), 'API-CA');
    assert.equal(readFileSync(join(api.source, 'namespace'), 'utf8'), 'ambit-system');
    assert.match(readFileSync(join(api.source, 'token'), 'utf8'), /-api$/);
  });

  it('follows the ConfigMap and renews tokens at 80% of their lifetime', () => {
    configMaps.set('ambit-system/ambit-root-ca', { 'root-cert.pem': 'ROOT-2' });
    const before = minted.length;
    kubelet.refresh();
    assert.equal(readFileSync(join(dir, 'agent', 'volumes', 'root-ca', 'root-cert.pem'), 'utf8'), 'ROOT-2');
    assert.equal(minted.length, before);
    now += 0.81 * 3600_000;
    kubelet.refresh();
    assert.equal(minted.filter((m) => m.audience === 'ambit-controller').length, 2);
  });

  it("runs a Waypoint's pod as its Deployment says: a token for the controller's audience, the bundle of its own namespace", () => {
    const deploy = desiredObjects({ namespace: 'shop', name: 'wp', uid: 'uid-wp', replicas: 1 }, waypointTemplate(loadControllerConfig({}))).Deployment;
    const pod = podFrom(deploy, 'wp-5d8f-abcde', 'shop');
    assert.ok(kubelet.handles(pod), 'the image the controller names is the Ambit image');
    // The controller's own ConfigMap (ambit-system) is not the pod's to mount.
    assert.throws(() => kubelet.containers(pod, 'node1', join(dir, 'wp'), undefined), (err: unknown) => err instanceof PodConfigError && /configmap "ambit-root-ca" not found/.test(err.message));
    configMaps.set('shop/ambit-root-ca', { 'root-cert.pem': 'ROOT-SHOP' });
    const before = minted.length;
    const [c] = kubelet.containers(pod, 'node1', join(dir, 'wp'), undefined);
    assert.ok(c);
    assert.deepEqual([c.env.AMBIT_WAYPOINT_NAME, c.env.AMBIT_POD_NAMESPACE, c.env.AMBIT_POD_NAME, c.env.AMBIT_NODE_NAME, c.env.AMBIT_POD_IP], ['wp', 'shop', 'wp-5d8f-abcde', 'node1', '10.244.1.2']);
    const { mounts, command } = split(c.argv);
    assert.deepEqual(command, ['node', '/repo/bin/ambit-component', 'waypoint']);
    assert.equal(mounts.find((m) => m.target === '/var/run/secrets/kubernetes.io/serviceaccount'), undefined, 'no API token');
    const file = (path: string) => {
      const m = mounts.find((x) => path.startsWith(`${x.target}/`))!;
      assert.equal(m.mode, 'ro', path);
      return readFileSync(join(m.source, path.slice(m.target.length + 1)), 'utf8');
    };
    assert.equal(file(c.env.AMBIT_ROOT_CA_FILE!), 'ROOT-SHOP');
    assert.match(file(c.env.AMBIT_CONTROLLER_TOKEN_FILE!), /-ambit-controller$/);
    assert.deepEqual(minted.slice(before), [{ audience: 'ambit-controller', pod: 'wp-5d8f-abcde' }]);
  });
});
