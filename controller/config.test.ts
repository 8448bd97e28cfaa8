import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { loadControllerConfig } from './config.js';

describe('controller config', () => {
  it('has cluster defaults: TokenReview auth, a Secret CA, the standard ports', () => {
    const c = loadControllerConfig({ POD_NAMESPACE: 'mesh' });
    assert.equal(c.grpcPort, 15010);
    assert.equal(c.adminPort, 15014);
    assert.equal(c.trustDomain, 'cluster.local');
    assert.deepEqual(c.ca, { kind: 'secret', namespace: 'mesh', name: 'ambit-ca' });
    assert.deepEqual(c.agentAuth, { kind: 'tokenreview', serviceAccounts: ['mesh/ambit-node-agent'] });
    assert.deepEqual(c.tokenAudiences, ['ambit-controller'], "the chart's tokenAudience: never the API server's own audience");
    assert.deepEqual(c.waypointResources, { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } });
    assert.equal(c.rootNamespace, 'mesh');
    assert.equal(c.certDefaultTtlMs, 24 * 3600_000);
    assert.equal(c.pushDebounceMs, 100);
    assert.equal(c.writeStatus, true);
    assert.equal(c.insecureControlPlane, false, 'TLS unless told otherwise');
    assert.deepEqual(c.serving, {
      spiffeId: 'spiffe://cluster.local/ns/mesh/sa/ambit-controller',
      dnsNames: ['ambit-controller.mesh.svc', 'ambit-controller.mesh.svc.cluster.local', 'ambit-controller.mesh'],
      ttlMs: 24 * 3600_000,
    });
    assert.equal(c.rootCaConfigMap, 'ambit-root-ca');
    assert.ok(Object.isFrozen(c));
  });

  it('names its serving certificate after its service account and Service', () => {
    const c = loadControllerConfig({ AMBIT_NAMESPACE: 'ops', AMBIT_SERVICE_ACCOUNT: 'ctl', AMBIT_SERVICE_NAME: 'mesh-ctl', AMBIT_CLUSTER_DOMAIN: 'corp.example', AMBIT_TRUST_DOMAIN: 'td.example', AMBIT_SERVING_CERT_TTL: '1h', AMBIT_INSECURE_CONTROL_PLANE: 'true' });
    assert.equal(c.serving.spiffeId, 'spiffe://td.example/ns/ops/sa/ctl');
    assert.deepEqual(c.serving.dnsNames, ['mesh-ctl.ops.svc', 'mesh-ctl.ops.svc.corp.example', 'mesh-ctl.ops']);
    assert.equal(c.serving.ttlMs, 3600_000);
    assert.equal(c.insecureControlPlane, true);
  });

  it('reads the lab settings', () => {
    const c = loadControllerConfig({
      AMBIT_KUBE_SERVER: 'http://10.0.0.1:6443',
      AMBIT_KUBE_TOKEN: 't',
      AMBIT_CA_DIR: '/var/lib/ambit/ca',
      AMBIT_AGENT_TOKENS: '{"node-1":"a","node-2":"b"}',
      AMBIT_TRUST_DOMAIN: 'lab.local',
      AMBIT_GRPC_PORT: '0',
      AMBIT_PUSH_DEBOUNCE: '20ms',
    });
    assert.deepEqual(c.ca, { kind: 'directory', dir: '/var/lib/ambit/ca' });
    assert.deepEqual(c.agentAuth, { kind: 'static', tokens: { 'node-1': 'a', 'node-2': 'b' } });
    assert.deepEqual(c.tokenAudiences, ['ambit-controller'], 'waypoints present projected tokens in the lab too');
    assert.equal(c.trustDomain, 'lab.local');
    assert.equal(c.grpcPort, 0);
    assert.equal(c.pushDebounceMs, 20);
  });

  it('tells waypoints where the controller is and what image they run', async () => {
    const { default: pkg } = await import('../package.json', { with: { type: 'json' } });
    const c = loadControllerConfig({ POD_NAMESPACE: 'mesh', AMBIT_SERVICE_NAME: 'ctl' });
    assert.equal(c.controllerAddress, 'ctl.mesh.svc:15010', 'the name on its serving certificate');
    assert.equal(c.waypointImage, `ghcr.io/ambit-mesh/ambit:${pkg.version}`);
    const lab = loadControllerConfig({ AMBIT_CONTROLLER_ADDRESS: '10.200.0.1:15010', AMBIT_WAYPOINT_IMAGE: 'registry.local/ambit@sha256:0123' });
    assert.deepEqual([lab.controllerAddress, lab.waypointImage], ['10.200.0.1:15010', 'registry.local/ambit@sha256:0123']);
  });

  it("gives waypoints the resources the chart's waypoint.resources says, as helm's toJson writes them", () => {
    const c = loadControllerConfig({ AMBIT_WAYPOINT_RESOURCES: '{"limits":{"cpu":2,"memory":"512Mi"},"requests":{"cpu":"250m"}}', AMBIT_AGENT_TOKEN_AUDIENCES: 'mesh.example,other' });
    assert.deepEqual(c.waypointResources, { limits: { cpu: '2', memory: '512Mi' }, requests: { cpu: '250m' } });
    assert.deepEqual(loadControllerConfig({ AMBIT_WAYPOINT_RESOURCES: '{}' }).waypointResources, {}, 'none at all');
    assert.deepEqual(c.tokenAudiences, ['mesh.example', 'other']);
  });

  it('elects a leader only when told to, over the Lease in its namespace named after it, with client-go timing by default', () => {
    assert.equal(loadControllerConfig({ AMBIT_POD_NAME: 'ambit-controller-7d9f-abcde' }).leaderElection, undefined, 'off unless AMBIT_LEADER_ELECTION=true');
    assert.equal(loadControllerConfig({ AMBIT_POD_NAME: 'ambit-controller-7d9f-abcde' }).podName, 'ambit-controller-7d9f-abcde', "its Events' reportingInstance, with or without election");
    const c = loadControllerConfig({ AMBIT_NAMESPACE: 'mesh', AMBIT_LEADER_ELECTION: 'true', AMBIT_POD_NAME: 'ambit-controller-7d9f-abcde' });
    assert.deepEqual(c.leaderElection, { namespace: 'mesh', leaseName: 'ambit-controller', identity: 'ambit-controller-7d9f-abcde', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    assert.ok(Object.isFrozen(c.leaderElection));
    const fast = loadControllerConfig({ AMBIT_LEADER_ELECTION: 'true', AMBIT_LEASE_NAME: 'ctl.lease', AMBIT_LEASE_DURATION: '2s', AMBIT_LEASE_RENEW_DEADLINE: '1s', AMBIT_LEASE_RETRY_PERIOD: '250ms' });
    assert.deepEqual([fast.leaderElection?.leaseName, fast.leaderElection?.leaseDurationMs, fast.leaderElection?.renewDeadlineMs, fast.leaderElection?.retryPeriodMs], ['ctl.lease', 2_000, 1_000, 250]);
    assert.equal(fast.leaderElection?.identity, hostname(), 'without a pod name, the host name (a pod\'s is its name)');
  });

  it('names the variable that is wrong', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ AMBIT_GRPC_PORT: '70000' }, /AMBIT_GRPC_PORT/],
      [{ AMBIT_AGENT_TOKENS: '{bad' }, /AMBIT_AGENT_TOKENS must be a JSON object/],
      [{ AMBIT_AGENT_TOKENS: '{"n":1}' }, /AMBIT_AGENT_TOKENS/],
      [{ AMBIT_TRUST_DOMAIN: 'Bad Domain' }, /AMBIT_TRUST_DOMAIN/],
      [{ AMBIT_CERT_TTL: 'a day' }, /AMBIT_CERT_TTL must be a duration/],
      [{ AMBIT_CERT_TTL: '72h' }, /AMBIT_CERT_MAX_TTL must be at least/],
      [{ AMBIT_INSECURE_CONTROL_PLANE: '1' }, /AMBIT_INSECURE_CONTROL_PLANE must be true or false/],
      [{ AMBIT_SERVING_CERT_TTL: '10s' }, /AMBIT_SERVING_CERT_TTL must be at least 1m/],
      [{ AMBIT_SERVICE_NAME: 'Ambit' }, /AMBIT_SERVICE_NAME must be a DNS label/],
      [{ AMBIT_ADMIN_HOST: 'localhost' }, /AMBIT_ADMIN_HOST must be an IP/],
      [{ AMBIT_WRITE_STATUS: 'yes' }, /AMBIT_WRITE_STATUS/],
      [{ AMBIT_CONTROLLER_ADDRESS: 'ambit-controller' }, /AMBIT_CONTROLLER_ADDRESS must be host:port/],
      [{ AMBIT_WAYPOINT_IMAGE: 'two words' }, /AMBIT_WAYPOINT_IMAGE must be an image reference/],
      [{ AMBIT_WAYPOINT_RESOURCES: 'cpu=1' }, /AMBIT_WAYPOINT_RESOURCES must be a JSON object/],
      [{ AMBIT_WAYPOINT_RESOURCES: '{"limit":{"cpu":"1"}}' }, /"limit" is neither requests nor limits/],
      [{ AMBIT_WAYPOINT_RESOURCES: '{"limits":{"memory":"1 GB"}}' }, /AMBIT_WAYPOINT_RESOURCES limits.memory must be a quantity/],
      [{ AMBIT_LEADER_ELECTION: 'on' }, /AMBIT_LEADER_ELECTION must be true or false/],
      [{ AMBIT_LEADER_ELECTION: 'true', AMBIT_LEASE_NAME: 'Ambit_Lease' }, /AMBIT_LEASE_NAME must be a DNS subdomain/],
      [{ AMBIT_LEADER_ELECTION: 'true', AMBIT_LEASE_DURATION: 'soon' }, /AMBIT_LEASE_DURATION must be a duration/],
      [{ AMBIT_LEADER_ELECTION: 'true', AMBIT_LEASE_RENEW_DEADLINE: '20s' }, /AMBIT_LEASE_DURATION, AMBIT_LEASE_RENEW_DEADLINE and AMBIT_LEASE_RETRY_PERIOD do not fit: the lease duration must be longer than the renew deadline/],
      [{ AMBIT_LEADER_ELECTION: 'true', AMBIT_LEASE_RETRY_PERIOD: '9s' }, /do not fit: the renew deadline must be longer than 1.2 retry periods/],
      [{ AMBIT_LEADER_ELECTION: 'true', AMBIT_LEASE_DURATION: '1500ms', AMBIT_LEASE_RENEW_DEADLINE: '1s', AMBIT_LEASE_RETRY_PERIOD: '200ms' }, /whole seconds/],
    ];
    for (const [env, re] of bad) assert.throws(() => loadControllerConfig(env), (e: Error & { code?: string }) => e.code === 'AMBIT_ERR_CONFIG' && re.test(e.message));
  });
});
