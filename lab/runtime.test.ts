import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { podCommand, renderHosts, renderResolvConf } from './runtime.js';

describe('pod runtime', () => {
  it('resolves short names only for Services of the pod\'s own namespace', () => {
    const hosts = renderHosts({ name: 'client', namespace: 'a', ip: '10.244.1.2' }, [
      { name: 'web', namespace: 'a', clusterIP: '10.96.0.10' },
      { name: 'db', namespace: 'b', clusterIP: '10.96.0.11' },
    ]);
    assert.match(hosts, /^10\.244\.1\.2\tclient$/m);
    assert.match(hosts, /^10\.96\.0\.10\tweb\.a\.svc\.cluster\.local web\.a\.svc web\.a web$/m);
    assert.match(hosts, /^10\.96\.0\.11\tdb\.b\.svc\.cluster\.local db\.b\.svc db\.b$/m);
    assert.match(renderResolvConf('a'), /^search a\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m);
  });

  it('enters the pod namespace without remounting /sys and joins the cgroup before exec', () => {
    const argv = podCommand(
      { netns: 'ambit-pod-x', cgroup: '/cg/pod1', dir: '/d', hostsFile: '/d/hosts', resolvFile: '/d/resolv.conf', logFile: '/d/log', hostname: 'p' },
      ['sleep', '1'],
    );
    assert.deepEqual(argv.slice(0, 2), ['nsenter', '--net=/run/netns/ambit-pod-x']);
    assert.ok(!argv.includes('netns'), 'not ip netns exec');
    assert.match(argv[argv.indexOf('-c') + 1]!, /^echo \$\$ > "\$1\/cgroup.procs" && .* exec "\$@"$/);
    assert.deepEqual(argv.slice(-2), ['sleep', '1']);
  });
});
