import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { podCommand, ProcessGroup, renderHosts, renderResolvConf, type ContainerState, type RestartPolicy } from './runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'ambit-runtime-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `sh -c script` as a group's one container under `policy`; resolves with its state once `until` holds. */
function runUntil(policy: RestartPolicy, script: string, until: (s: ContainerState) => boolean): Promise<{ state: ContainerState; group: ProcessGroup }> {
  return new Promise((resolve) => {
    const group = new ProcessGroup({ wrap: (argv) => argv, logFile: join(dir, `${policy}.log`), label: policy }, [{ name: 'c', argv: ['sh', '-c', script], env: {}, workingDir: undefined }], policy, (states) => {
      if (until(states[0]!)) resolve({ state: states[0]!, group });
    });
    group.start();
  });
}

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

  it('lets a container exit for good under restartPolicy Never and OnFailure (after a success), restarting it otherwise', async () => {
    const never = await runUntil('Never', 'exit 3', (s) => !s.running && s.lastExitCode !== undefined);
    assert.deepEqual([never.state.finished, never.state.lastExitCode, never.state.restartCount], [true, 3, 0]);
    const onFailure = await runUntil('OnFailure', 'exit 0', (s) => !s.running && s.lastExitCode !== undefined);
    assert.deepEqual([onFailure.state.finished, onFailure.state.lastExitCode], [true, 0]);
    const retried = await runUntil('OnFailure', 'exit 1', (s) => s.restartCount > 0 && s.running);
    assert.equal(retried.state.finished, false, 'a failed container under OnFailure is restarted');
    await Promise.all([never, onFailure, retried].map((r) => r.group.stop(100)));
  });
});
