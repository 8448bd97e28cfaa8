import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HbonePool, startHboneServer, type HboneServer } from '../lib/hbone/index.js';
import { echo, readAll, tcpServer } from '../lib/hbone/harness.js';
import { issue, testCa } from '../lib/identity/fixtures.js';
import { logger } from '../lib/log.js';
import type { AuthorizationPolicy, Service, Workload } from '../lib/xds/index.js';
import { AgentMetrics } from '../node-agent/admin/metrics.js';
import { Telemetry } from '../node-agent/proxy/telemetry.js';
import { MeshState } from '../node-agent/state/mesh-state.js';
import { WaypointProxy } from './proxy.js';

const ID = (sa: string) => `spiffe://cluster.local/ns/shop/sa/${sa}`;
const WAYPOINT = { namespace: 'shop', name: 'wp' };

const workload = (name: string, sa: string, ip: string): Workload => ({
  uid: `uid-${name}`,
  namespace: 'shop',
  name,
  serviceAccount: sa,
  node: 'node-b',
  ip,
  meshed: true,
  labels: {},
  workloadName: sa,
  identity: ID(sa),
  waypoint: null,
});

const service = (name: string, clusterIp: string, targetPort: number, waypoint: typeof WAYPOINT | null): Service => ({
  namespace: 'shop',
  name,
  hostname: `${name}.shop.svc.cluster.local`,
  clusterIp,
  ports: [{ name: 'http', port: 80, targetPort, targetPortName: '', protocol: 'TCP', appProtocol: '' }],
  endpoints: [{ workloadUid: 'uid-web-1', address: '127.0.0.1', node: 'node-b', ready: true, ports: [{ servicePort: 80, targetPort }] }],
  waypoint,
  lbPolicy: 'ROUND_ROBIN',
  lbHashHeader: '',
});

/**
 * The waypoint's data path with real HBONE on loopback: a client tunnels to the waypoint
 * (as a source node agent would) asking for a Service address; the waypoint tunnels on to
 * the destination "agent" (an HBONE server that admits only the waypoint's identity and
 * connects to an echo server).
 */
describe('waypoint proxy', () => {
  const ca = testCa();
  const certs = { client: issue(ca, ID('frontend')), waypoint: issue(ca, ID('wp')), web: issue(ca, ID('web')) };
  const state = new MeshState();
  const agentPeers: string[] = [];
  const pool = new HbonePool();
  const client = new HbonePool();
  let app: Awaited<ReturnType<typeof tcpServer>>;
  let agent: HboneServer;
  let waypoint: HboneServer;

  before(async () => {
    app = await tcpServer(echo);
    agent = await startHboneServer({
      host: '127.0.0.1',
      port: 0,
      tls: () => certs.web,
      authorize: (req) => {
        agentPeers.push(req.peer.uri);
        return req.peer.uri === ID('wp') ? { allow: true } : { allow: false, reason: 'only the waypoint' };
      },
    });
    const proxy = new WaypointProxy({
      state,
      waypoint: WAYPOINT,
      identity: ID('wp'),
      certificate: async () => certs.waypoint,
      pool,
      hbonePort: agent.address.port,
      telemetry: new Telemetry(new AgentMetrics(), logger('test', 'access')),
      log: logger('test', 'waypoint'),
    });
    waypoint = await startHboneServer({ host: '127.0.0.1', port: 0, tls: () => certs.waypoint, ...proxy.hooks() });
    state.apply('Node', [{ name: 'node-b', ip: '127.0.0.1' }], []);
    state.apply('Workload', [workload('web-1', 'web', '127.0.0.1')], []);
    state.apply('Service', [service('web', '10.96.0.10', app.port, WAYPOINT), service('direct', '10.96.0.11', app.port, null)], []);
  });

  after(async () => {
    await client.close({ drainMs: 0 });
    await pool.close({ drainMs: 0 });
    await waypoint.close({ drainMs: 0 });
    await agent.close({ drainMs: 0 });
    await app.close();
  });

  const open = (destination: string) =>
    client.connect({ sourceIdentity: ID('frontend'), sourceTls: () => certs.client, destination, via: `127.0.0.1:${waypoint.address.port}`, expectedServerIdentity: ID('wp') });

  it('admits nothing before its first complete config', async () => {
    const r = await open('10.96.0.10:80');
    assert.equal(!r.ok && r.error.code, 'AMBIT_ERR_HBONE_DENIED');
    assert.match(!r.ok ? r.error.message : '', /no complete config/);
  });

  it('carries a tunnel for a Service bound to it on to an endpoint, as itself', async () => {
    state.markComplete();
    const r = await open('10.96.0.10:80');
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    r.value.stream.end('through the waypoint');
    assert.equal((await readAll(r.value.stream)).toString(), 'through the waypoint');
    assert.deepEqual(agentPeers, [ID('wp')], 'the destination agent saw the waypoint, not the client');
  });

  it('refuses what it does not serve: a Service without it, an address it does not know', async () => {
    for (const [dst, why] of [
      ['10.96.0.11:80', /Service shop\/direct is not bound to waypoint shop\/wp/],
      ['10.1.2.3:80', /10\.1\.2\.3:80 is not bound to waypoint shop\/wp/],
    ] as const) {
      const r = await open(dst);
      assert.equal(!r.ok && r.error.code, 'AMBIT_ERR_HBONE_DENIED', dst);
      assert.match(!r.ok ? r.error.message : '', why);
    }
  });

  it('enforces the AuthorizationPolicies that target it or the Service (not those left to the node agents), naming the one that denied', async () => {
    const policy = (name: string, targetKind: 'Waypoint' | 'Service', targetName: string, action: 'ALLOW' | 'DENY', principals: string[], nodeAgentServices: string[] = []): AuthorizationPolicy => ({
      namespace: 'shop',
      name,
      scope: 'TARGET_REFS',
      selector: null,
      targetRefs: [{ group: '', kind: targetKind, name: targetName }],
      action,
      rules: [{ from: [{ principals, notPrincipals: [], namespaces: [], notNamespaces: [], ipBlocks: [], notIpBlocks: [] }], to: [], when: [], l7When: [], hasL7: false }],
      hasL7: false,
      nodeAgentServices,
    });
    const denyAtWaypoint = policy('deny-frontend', 'Waypoint', 'wp', 'DENY', ['cluster.local/ns/shop/sa/frontend']);
    state.apply('AuthorizationPolicy', [denyAtWaypoint], []);
    const denied = await open('10.96.0.10:80');
    assert.match(!denied.ok ? denied.error.message : 'allowed', /denied by AuthorizationPolicy shop\/deny-frontend/);

    // Only another principal allowed on Service web: the frontend is not.
    state.apply('AuthorizationPolicy', [policy('allow-admin', 'Service', 'web', 'ALLOW', ['cluster.local/ns/shop/sa/admin'])], ['shop/deny-frontend']);
    const notAllowed = await open('10.96.0.10:80');
    assert.match(!notAllowed.ok ? notAllowed.error.message : 'allowed', /no ALLOW AuthorizationPolicy matched/);

    // The same policy left to the node agents (nodeAgentServices) is not the waypoint's to enforce.
    state.apply('AuthorizationPolicy', [policy('allow-admin', 'Service', 'web', 'ALLOW', ['cluster.local/ns/shop/sa/admin'], ['web'])], []);
    const passed = await open('10.96.0.10:80');
    assert.ok(passed.ok, passed.ok ? '' : passed.error.message);
    passed.value.stream.end('x');
    assert.equal((await readAll(passed.value.stream)).toString(), 'x');
  });
});
