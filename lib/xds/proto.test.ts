import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import * as protoLoader from '@grpc/proto-loader';
import { LOADER_OPTIONS, PROTO_FILES, loadAmbitProtos, protoRoot } from './proto.js';
import { fromWire, resourceName, toWire } from './resources.js';
import type { AuthorizationPolicy, ConfigMessage, PeerAuthentication, ResourceMap, ResourceType, Route, Service, Workload } from './types.js';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');

const workload: Workload = {
  uid: 'u1',
  namespace: 'shop',
  name: 'web-1',
  serviceAccount: 'web',
  node: 'node-a',
  ip: '10.0.1.5',
  meshed: true,
  labels: { app: 'web' },
  workloadName: 'web',
  identity: 'spiffe://cluster.local/ns/shop/sa/web',
  waypoint: { namespace: 'shop', name: 'wp' },
};
const service: Service = {
  namespace: 'shop',
  name: 'web',
  hostname: 'web.shop.svc.cluster.local',
  clusterIp: '10.96.0.10',
  ports: [{ name: 'http', port: 80, targetPort: 0, targetPortName: 'http', protocol: 'TCP', appProtocol: 'http' }],
  endpoints: [{ workloadUid: 'u1', address: '10.0.1.5', node: 'node-a', ready: true, ports: [{ servicePort: 80, targetPort: 8080 }] }],
  waypoint: null,
  lbPolicy: 'CONSISTENT_HASH',
  lbHashHeader: 'x-user',
  trafficPolicy: {
    name: 'shop/web',
    connectionPool: { maxConnections: 10, maxPendingRequests: 5, maxRequestsPerConnection: 0, connectTimeoutMs: 2000 },
    outlierDetection: { consecutive_5xxErrors: 5, consecutiveGatewayErrors: 0, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50 },
    retries: { attempts: 3, perTryTimeoutMs: 500, retryOn: ['5xx', 'reset'], retriableStatusCodes: [503] },
    timeoutMs: 5000,
    fault: { delayMs: 2000, delayPercentage: 12.5, abortStatus: 0, abortPercentage: 0 },
    localRateLimit: null,
  },
};
const route: Route = {
  namespace: 'shop',
  name: 'web',
  kind: 'GRPC',
  parents: [{ namespace: 'shop', name: 'web', port: 80, consumer: false }],
  hostnames: ['web.shop.svc.cluster.local'],
  rules: [
    {
      name: 'canary',
      matches: [{ path: { type: 'PATH_PREFIX', value: '/shop.Web', name: '' }, headers: [{ type: 'REGULAR_EXPRESSION', value: 'a.*', name: 'x-user' }], queryParams: [], method: '' }],
      filters: [
        { filter: 'requestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }], add: [], remove: ['x-b'] } },
        { filter: 'requestMirror', requestMirror: { backend: { namespace: 'shop', name: 'shadow', port: 80 }, numerator: 1, denominator: 3 } },
        { filter: 'requestRedirect', requestRedirect: { scheme: 'https', hostname: '', path: { type: 'REPLACE_PREFIX_MATCH', value: '/v2' }, port: 0, statusCode: 301 } },
      ],
      backends: [
        { ref: { namespace: 'shop', name: 'web-v1', port: 80 }, weight: 9, filters: [] },
        { ref: null, weight: 1, filters: [{ filter: 'responseHeaderModifier', responseHeaderModifier: { set: [], add: [], remove: ['server'] } }] },
      ],
      requestTimeoutMs: 1000,
      backendRequestTimeoutMs: 0,
    },
  ],
  createdMs: '1767225600000',
};
const policy: AuthorizationPolicy = {
  namespace: 'shop',
  name: 'allow',
  scope: 'WORKLOAD_SELECTOR',
  selector: { matchLabels: { app: 'web' } },
  targetRefs: [],
  action: 'DENY',
  rules: [
    {
      from: [{ principals: ['cluster.local/ns/a/sa/b'], notPrincipals: [], namespaces: ['x'], notNamespaces: [], ipBlocks: ['10.0.0.0/8'], notIpBlocks: ['10.1.0.0/16'] }],
      to: [{ ports: [8080], notPorts: [9090], methods: ['GET'], notMethods: [], paths: ['/api/*'], notPaths: [], hosts: [], notHosts: ['evil.example'] }],
      when: [{ key: 'source.ip', values: ['10.0.0.1'], notValues: [] }],
      l7When: [{ key: 'request.headers[x-user]', values: ['alice'], notValues: [] }],
      hasL7: true,
    },
  ],
  hasL7: true,
  nodeAgentServices: ['web', 'api'],
};
const peer: PeerAuthentication = { namespace: 'shop', name: 'strict', scope: 'MESH', selector: null, mode: 'STRICT', portLevelMtls: [{ port: 8080, mode: 'PERMISSIVE' }] };

describe('the .proto files', () => {
  it('are found from the compiled code, in the source tree', () => {
    assert.equal(protoRoot(), resolve(repoRoot, 'lib/xds/proto'));
    for (const f of PROTO_FILES) assert.ok(existsSync(resolve(protoRoot(), f)), f);
    const protos = loadAmbitProtos();
    assert.ok(protos.meshConfig.Stream, 'MeshConfig.Stream');
    assert.ok(protos.meshCa.Sign, 'MeshCA.Sign');
  });

  it('carry every resource type field for field as types.ts spells it', () => {
    const def = protoLoader.loadSync([...PROTO_FILES], { ...LOADER_OPTIONS, includeDirs: [protoRoot()] });
    const stream = (def['ambit.v1.MeshConfig'] as Record<string, protoLoader.MethodDefinition<object, ConfigMessage>>).Stream!;
    const samples: { [T in ResourceType]: ResourceMap[T] } = { Node: { name: 'node1', ip: '10.200.0.10' }, Workload: workload, Service: service, AuthorizationPolicy: policy, PeerAuthentication: peer, Route: route };
    for (const [type, r] of Object.entries(samples) as [ResourceType, ResourceMap[ResourceType]][]) {
      const name = resourceName(type, r as never);
      const msg: ConfigMessage = { type, version: 'v1', nonce: 'n1', upserts: [toWire(type, name, r as never)], removals: ['gone'], fullState: true };
      const back = stream.responseDeserialize(stream.responseSerialize(msg));
      assert.equal(back.upserts[0]!.name, name);
      // Decoded messages have every field; a field missing from types.ts (or misspelled) would show here.
      assert.deepEqual(fromWire(type, back.upserts[0]!), r, type);
      assert.deepEqual(fromWire(type === 'Workload' ? 'Service' : 'Workload', back.upserts[0]!), undefined);
      if (type === 'Route') assert.equal(name, 'GRPCRoute/shop/web', 'a Route is named by its Kubernetes kind');
      assert.deepEqual([back.type, back.version, back.nonce, back.removals, back.fullState], [type, 'v1', 'n1', ['gone'], true]);
    }
  });

  it('decode a Service from a controller that predates lb_policy as ROUND_ROBIN', () => {
    const def = protoLoader.loadSync([...PROTO_FILES], { ...LOADER_OPTIONS, includeDirs: [protoRoot()] });
    const stream = (def['ambit.v1.MeshConfig'] as Record<string, protoLoader.MethodDefinition<object, ConfigMessage>>).Stream!;
    const { lbPolicy: _p, lbHashHeader: _h, ...old } = service;
    const msg: ConfigMessage = { type: 'Service', version: 'v1', nonce: 'n1', upserts: [{ name: 'shop/web', service: old as Service }], removals: [], fullState: true };
    const back = fromWire('Service', stream.responseDeserialize(stream.responseSerialize(msg)).upserts[0]!);
    assert.deepEqual([back?.lbPolicy, back?.lbHashHeader], ['ROUND_ROBIN', '']);
  });
});
