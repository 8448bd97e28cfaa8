import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { HbonePool, startHboneServer, type HboneServer } from '../lib/hbone/index.js';
import { echo, readAll, tcpServer } from '../lib/hbone/harness.js';
import { issue, testCa } from '../lib/identity/fixtures.js';
import { logger } from '../lib/log.js';
import type { AuthorizationPolicy, Service, Workload } from '../lib/xds/index.js';
import { AgentMetrics } from '../node-agent/admin/metrics.js';
import { Telemetry } from '../node-agent/proxy/telemetry.js';
import { MeshState } from '../node-agent/state/mesh-state.js';
import { RequestMetrics } from './metrics.js';
import { tracingConfig } from './config.js';
import { WaypointProxy } from './proxy.js';
import { createTracing } from './tracing.js';

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

const service = (name: string, clusterIp: string, targetPort: number, waypoint: typeof WAYPOINT | null, portName = 'tcp-echo'): Service => ({
  namespace: 'shop',
  name,
  hostname: `${name}.shop.svc.cluster.local`,
  clusterIp,
  ports: [{ name: portName, port: 80, targetPort, targetPortName: '', protocol: 'TCP', appProtocol: '' }],
  endpoints: [{ workloadUid: 'uid-web-1', address: '127.0.0.1', node: 'node-b', ready: true, ports: [{ servicePort: 80, targetPort }] }],
  waypoint,
  lbPolicy: 'ROUND_ROBIN',
  lbHashHeader: '',
  trafficPolicy: null,
});

/** An ALLOW policy on Service `service` for requests with these methods and paths (L7 fields: the waypoint checks them per request). */
const allowRequests = (name: string, service: string, to: { methods?: string[]; paths?: string[] }): AuthorizationPolicy => ({
  namespace: 'shop',
  name,
  scope: 'TARGET_REFS',
  selector: null,
  targetRefs: [{ group: '', kind: 'Service', name: service }],
  action: 'ALLOW',
  rules: [{ from: [], to: [{ ports: [], notPorts: [], methods: to.methods ?? [], notMethods: [], paths: to.paths ?? [], notPaths: [], hosts: [], notHosts: [] }], when: [], l7When: [], hasL7: true }],
  hasL7: true,
  nodeAgentServices: [],
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
  const metrics = new AgentMetrics();
  const pool = new HbonePool();
  const client = new HbonePool();
  let app: Awaited<ReturnType<typeof tcpServer>>;
  let api: http.Server;
  let grpcLike: http2.Http2Server;
  let agent: HboneServer;
  let waypoint: HboneServer;

  before(async () => {
    app = await tcpServer(echo);
    api = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d));
      req.on('end', () => res.writeHead(200, { 'x-upstream': 'api', 'content-type': 'text/plain' }).end(`${req.method} ${req.url} ${body}`));
    });
    // An upgrade (as WebSocket does): 101, then the bytes echo back.
    api.on('upgrade', (_req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n');
      if (head.length > 0) socket.write(head);
      socket.pipe(socket);
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    // h2c, answering as a gRPC server does: the status in trailers.
    grpcLike = http2.createServer((req, res) => {
      if (req.url === '/pkg.Echo/Reset') {
        // Answers, then fails mid-stream: the client must see the reset, not a clean end.
        res.writeHead(200, { 'content-type': 'application/grpc' });
        res.write('partial');
        setTimeout(() => res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR), 20);
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/grpc' });
        res.addTrailers({ 'grpc-status': '0', 'grpc-message': `${req.url} ${Buffer.concat(chunks).toString()}` });
        res.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((r) => grpcLike.listen(0, '127.0.0.1', r));
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
      telemetry: new Telemetry(metrics, logger('test', 'access')),
      requests: new RequestMetrics(metrics.registry),
      tracing: await createTracing(tracingConfig({}), { namespace: 'shop', name: 'wp', podName: 'wp-0' }),
      accessLog: logger('test', 'access'),
      log: logger('test', 'waypoint'),
    });
    waypoint = await startHboneServer({ host: '127.0.0.1', port: 0, tls: () => certs.waypoint, ...proxy.hooks() });
    state.apply('Node', [{ name: 'node-b', ip: '127.0.0.1' }], []);
    state.apply('Workload', [workload('web-1', 'web', '127.0.0.1')], []);
    const apiPort = (api.address() as AddressInfo).port;
    // Port 'http' declares HTTP; 'web' (a name that declares nothing) is sniffed.
    const grpcPort = (grpcLike.address() as AddressInfo).port;
    state.apply(
      'Service',
      [
        service('web', '10.96.0.10', app.port, WAYPOINT),
        service('direct', '10.96.0.11', app.port, null),
        service('api', '10.96.0.12', apiPort, WAYPOINT, 'http'),
        service('sniffed', '10.96.0.13', apiPort, WAYPOINT, 'web'),
        service('grpc', '10.96.0.14', grpcPort, WAYPOINT, 'grpc'),
        service('h2sniffed', '10.96.0.15', grpcPort, WAYPOINT, 'web'),
      ],
      [],
    );
  });

  after(async () => {
    await client.close({ drainMs: 0 });
    await pool.close({ drainMs: 0 });
    await waypoint.close({ drainMs: 0 });
    await agent.close({ drainMs: 0 });
    await app.close();
    await new Promise((r) => api.close(r));
    await new Promise((r) => grpcLike.close(r));
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

  /** Sends raw bytes through a tunnel to `destination` and returns all that comes back. */
  const exchange = async (destination: string, bytes: string): Promise<string> => {
    const r = await open(destination);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    r.value.stream.end(bytes);
    return (await readAll(r.value.stream)).toString();
  };

  it('serves HTTP/1.1 request by request, declared by the port or sniffed, and counts each', async () => {
    state.apply('AuthorizationPolicy', [], ['shop/allow-admin']);
    const two = await exchange('10.96.0.12:80', 'GET /a HTTP/1.1\r\nhost: api\r\n\r\nPOST /b HTTP/1.1\r\nhost: api\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello');
    assert.match(two, /^HTTP\/1\.1 200 OK\r\n[^]*x-upstream: api[^]*GET \/a \r\n[^]*HTTP\/1\.1 200 OK[^]*POST \/b hello\r\n/);
    assert.match(await exchange('10.96.0.13:80', 'GET /sniffed HTTP/1.1\r\nhost: sniffed\r\nconnection: close\r\n\r\n'), /^HTTP\/1\.1 200 OK[^]*GET \/sniffed \r\n/);
    const counted = await metrics.registry.getSingleMetricAsString('ambit_requests_total');
    assert.match(counted, /ambit_requests_total\{[^}]*destination_service="api\.shop\.svc\.cluster\.local"[^}]*response_code="200"[^}]*\} 2/);
  });

  it('passes an upgrade through once authorized: 101, then bytes both ways', async () => {
    const r = await exchange('10.96.0.12:80', 'GET /ws HTTP/1.1\r\nhost: api\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\nping');
    assert.match(r, /^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\nping$/);
  });

  it('answers malformed HTTP with 400 and closes only that connection', async () => {
    assert.match(await exchange('10.96.0.12:80', 'GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400 Bad Request/);
    assert.match(await exchange('10.96.0.12:80', 'GET /after HTTP/1.1\r\nhost: api\r\nconnection: close\r\n\r\n'), /200 OK[^]*GET \/after/);
  });

  it('authorizes each request by method and path, and a denial says RBAC and names the policy', async () => {
    const getPublic = allowRequests('get-public', 'api', { methods: ['GET'], paths: ['/public/*'] });
    state.apply('AuthorizationPolicy', [getPublic], []);
    const get = (path: string, method = 'GET') => exchange('10.96.0.12:80', `${method} ${path} HTTP/1.1\r\nhost: api\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
    assert.match(await get('/public/x'), /^HTTP\/1\.1 200/);
    assert.match(await get('/public/x', 'POST'), /^HTTP\/1\.1 403 Forbidden[^]*RBAC: access denied \(no ALLOW AuthorizationPolicy matched\)/);
    assert.match(await get('/private'), /^HTTP\/1\.1 403/);
    // The same policy on a connection that is not HTTP fails closed: an ALLOW rule with HTTP fields matches nothing.
    state.apply('Service', [{ ...service('api', '10.96.0.12', (api.address() as AddressInfo).port, WAYPOINT, 'tcp'), name: 'api' }], []);
    const opaque = await open('10.96.0.12:80');
    assert.ok(opaque.ok);
    opaque.value.stream.end('GET /public/x HTTP/1.1\r\nhost: api\r\n\r\n');
    assert.equal((await readAll(opaque.value.stream).catch(() => Buffer.alloc(0))).toString(), '', 'closed without a byte from the upstream');
    state.apply('AuthorizationPolicy', [], ['shop/get-public']);
  });

  /** One HTTP/2 request through a tunnel to `destination`: status, body, trailers. */
  const h2 = async (destination: string, path: string, body: string) => {
    const r = await open(destination);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    const session = http2.connect('http://upstream', { createConnection: () => r.value.stream as never });
    try {
      return await new Promise<{ status: number; contentType: string | undefined; grpcStatus: string | undefined; body: string; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
        let status = 0;
        let contentType: string | undefined;
        let grpcStatus: string | undefined;
        let trailers: http2.IncomingHttpHeaders = {};
        const chunks: Buffer[] = [];
        stream.on('response', (h) => {
          status = Number(h[':status']);
          contentType = h['content-type'];
          grpcStatus = h['grpc-status'] as string | undefined;
        });
        stream.on('data', (d: Buffer) => chunks.push(d));
        stream.on('trailers', (t) => (trailers = t));
        stream.on('end', () => resolve({ status, contentType, grpcStatus: grpcStatus ?? (trailers['grpc-status'] as string | undefined), body: Buffer.concat(chunks).toString(), trailers }));
        stream.on('error', reject);
        stream.end(body);
      });
    } finally {
      session.close();
    }
  };

  it('serves HTTP/2 (h2c, as gRPC sends it) per stream: trailers pass through, declared or sniffed, and L7 policy applies', async () => {
    state.apply('AuthorizationPolicy', [], ['shop/get-public']);
    const ok = await h2('10.96.0.14:80', '/pkg.Echo/Say', 'ping');
    assert.deepEqual([ok.status, ok.contentType, ok.body, ok.trailers['grpc-status'], ok.trailers['grpc-message']], [200, 'application/grpc', 'ping', '0', '/pkg.Echo/Say ping']);
    const sniffed = await h2('10.96.0.15:80', '/pkg.Echo/Say', 'pong');
    assert.deepEqual([sniffed.status, sniffed.body], [200, 'pong']);
    const onlyOther = allowRequests('only-other', 'grpc', { paths: ['/pkg.Other/*'] });
    state.apply('AuthorizationPolicy', [onlyOther], []);
    // A gRPC client reads a denial as gRPC: PERMISSION_DENIED in a trailers-only answer, as Envoy maps it.
    const denied = await h2('10.96.0.14:80', '/pkg.Echo/Say', 'ping');
    assert.deepEqual([denied.status, denied.grpcStatus], [200, '7']);
    assert.equal((await h2('10.96.0.14:80', '/pkg.Other/Call', 'x')).status, 200);
    state.apply('AuthorizationPolicy', [], ['shop/only-other']);
    const counted = await metrics.registry.getSingleMetricAsString('ambit_requests_total');
    assert.match(counted, /ambit_requests_total\{(?=[^}]*destination_service="grpc\.shop\.svc\.cluster\.local")(?=[^}]*response_code="403")[^}]*\} 1/);
  });

  it('passes an upstream reset on to the HTTP/2 client instead of ending its stream cleanly', async () => {
    await assert.rejects(h2('10.96.0.14:80', '/pkg.Echo/Reset', ''), /Stream closed with error code NGHTTP2_INTERNAL_ERROR/);
  });
});
