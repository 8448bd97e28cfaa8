import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AmbitError } from '../lib/errors.js';
import { clusterIpProblem, Ipam, MAX_NODES, nodeFabricIp, nodePodCidr, nodePodGateway } from './ipam.js';

const code = (c: string) => (err: unknown) => err instanceof AmbitError && err.code === c;

describe('node addresses', () => {
  test('follow the plan', () => {
    assert.equal(nodePodCidr(0), '10.244.1.0/24');
    assert.equal(nodePodGateway(0), '10.244.1.1');
    assert.equal(nodeFabricIp(0), '10.200.0.10');
    assert.equal(nodePodCidr(2), '10.244.3.0/24');
    assert.equal(nodePodGateway(2), '10.244.3.1');
    assert.equal(nodeFabricIp(2), '10.200.0.12');
    assert.equal(nodeFabricIp(MAX_NODES - 1), '10.200.0.254');
  });

  test('reject impossible node indexes', () => {
    for (const i of [-1, MAX_NODES, 1.5, NaN]) assert.throws(() => nodeFabricIp(i), code('AMBIT_ERR_LAB_SETUP'));
    assert.throws(() => new Ipam().allocatePodIp(MAX_NODES, 'p'), /node index 245 is out of range: the lab supports nodes 0\.\.244/);
  });
});

describe('pod IPs', () => {
  test('per node from .2, deterministic', () => {
    const run = (): string[] => {
      const ipam = new Ipam();
      return [ipam.allocatePodIp(0, 'a'), ipam.allocatePodIp(0, 'b'), ipam.allocatePodIp(1, 'c'), ipam.allocatePodIp(0, 'd')];
    };
    assert.deepEqual(run(), ['10.244.1.2', '10.244.1.3', '10.244.2.2', '10.244.1.4']);
    assert.deepEqual(run(), run());
  });

  test('idempotent per owner', () => {
    const ipam = new Ipam();
    assert.equal(ipam.allocatePodIp(0, 'a'), ipam.allocatePodIp(0, 'a'));
    assert.equal(ipam.ownerOf('10.244.1.2'), 'a');
  });

  test('released addresses are reused after the rest of the range (next-fit)', () => {
    const ipam = new Ipam();
    const first = ipam.allocatePodIp(0, 'a');
    ipam.allocatePodIp(0, 'b');
    assert.equal(ipam.releasePodIp(first), true);
    assert.equal(ipam.releasePodIp(first), false);
    assert.equal(ipam.allocatePodIp(0, 'c'), '10.244.1.4', 'not the just-freed .2');
    for (let i = 5; i <= 254; i++) ipam.allocatePodIp(0, `fill-${i}`);
    assert.equal(ipam.allocatePodIp(0, 'wraps'), '10.244.1.2', 'the freed address once the range wraps');
  });

  test('exhaustion is a clear error', () => {
    const ipam = new Ipam();
    for (let i = 0; i < 253; i++) ipam.allocatePodIp(3, `p${i}`);
    assert.throws(() => ipam.allocatePodIp(3, 'Pod default/one-too-many'), (err: unknown) => {
      assert.ok(err instanceof AmbitError);
      assert.equal(err.code, 'AMBIT_ERR_LAB_SETUP');
      assert.equal(
        err.message,
        'no free address for Pod default/one-too-many: the pod range 10.244.4.0/24 of node 3 is exhausted (253 of 253 in use); delete some objects or add nodes',
      );
      return true;
    });
    assert.equal(ipam.allocatePodIp(2, 'other-node'), '10.244.3.2');
    ipam.releasePodIp('10.244.4.100');
    assert.equal(ipam.allocatePodIp(3, 'fits-again'), '10.244.4.100');
  });

  test('a requested pod IP restores a known allocation', () => {
    const ipam = new Ipam();
    assert.equal(ipam.allocatePodIp(0, 'a', '10.244.1.77'), '10.244.1.77');
    assert.equal(ipam.allocatePodIp(0, 'b'), '10.244.1.2');
    assert.throws(() => ipam.allocatePodIp(0, 'c', '10.244.1.77'), /c asks for 10\.244\.1\.77, which is already allocated to a/);
    assert.throws(() => ipam.allocatePodIp(0, 'd', '10.244.2.5'), /not in the pod range 10\.244\.1\.0\/24 of node 0/);
    assert.throws(() => ipam.allocatePodIp(0, 'e', '10.244.1.1'), /not in the pod range/);
    assert.throws(() => ipam.allocatePodIp(0, 'a', '10.244.1.78'), /a asks for 10\.244\.1\.78 but already holds 10\.244\.1\.77/);
  });
});

describe('ClusterIPs', () => {
  test('from 10.96.0.10 on', () => {
    const ipam = new Ipam();
    assert.equal(ipam.allocateClusterIp('Service default/a'), '10.96.0.10');
    assert.equal(ipam.allocateClusterIp('Service default/b', ''), '10.96.0.11');
  });

  test('requested addresses are honoured when free and in range', () => {
    const ipam = new Ipam();
    assert.equal(ipam.allocateClusterIp('Service default/dns', '10.96.0.10'), '10.96.0.10');
    assert.equal(ipam.allocateClusterIp('Service default/a'), '10.96.0.11', 'skips the requested one');
    assert.equal(ipam.allocateClusterIp('Service default/low', '10.96.0.1'), '10.96.0.1');
    assert.equal(ipam.allocateClusterIp('Service default/high', '10.96.255.254'), '10.96.255.254');
    assert.throws(() => ipam.allocateClusterIp('Service default/b', '10.96.0.10'), (err: unknown) => {
      assert.ok(err instanceof AmbitError);
      assert.equal(err.code, 'AMBIT_ERR_MANIFEST');
      assert.equal(err.message, 'Service default/b asks for 10.96.0.10, which is already allocated to Service default/dns');
      return true;
    });
    assert.throws(() => ipam.allocateClusterIp('Service default/c', '10.97.0.1'), /^AmbitError: Service default\/c: spec\.clusterIP 10\.97\.0\.1 is outside the lab's Service range 10\.96\.0\.0\/16$/);
    assert.throws(() => ipam.allocateClusterIp('Service default/c', '10.96.0.0'), /outside/);
    assert.throws(() => ipam.allocateClusterIp('Service default/c', '10.96.255.255'), /outside/);
    assert.throws(() => ipam.allocateClusterIp('Service default/c', 'nope'), /must be an IPv4 address/);
  });

  test('release and exhaustion', () => {
    const ipam = new Ipam();
    const total = 65534;
    for (let i = 0; i < total; i++) ipam.allocateClusterIp(`s${i}`);
    assert.throws(() => ipam.allocateClusterIp('Service default/last'), /no free address for Service default\/last: the Service range 10\.96\.0\.0\/16 is exhausted \(65534 of 65534 in use\)/);
    assert.equal(ipam.releaseClusterIp('10.96.3.3'), true);
    assert.equal(ipam.allocateClusterIp('Service default/last'), '10.96.3.3');
    assert.equal(ipam.releaseClusterIp('bogus'), false);
  });

  test('clusterIpProblem', () => {
    assert.equal(clusterIpProblem('10.96.12.34'), undefined);
    assert.match(clusterIpProblem('10.95.0.1')!, /outside/);
    assert.match(clusterIpProblem('::1')!, /IPv4/);
  });
});

test('snapshot lists every allocation by address', () => {
  const ipam = new Ipam();
  ipam.allocatePodIp(1, 'Pod default/b');
  ipam.allocatePodIp(0, 'Pod default/a');
  ipam.allocateClusterIp('Service default/s');
  assert.deepEqual(ipam.snapshot(), {
    podIps: { '10.244.1.2': 'Pod default/a', '10.244.2.2': 'Pod default/b' },
    clusterIps: { '10.96.0.10': 'Service default/s' },
  });
  assert.equal(ipam.ownerOf('10.96.0.10'), 'Service default/s');
  assert.equal(ipam.ownerOf('10.1.1.1'), undefined);
});
