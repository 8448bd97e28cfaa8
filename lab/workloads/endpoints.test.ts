import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../lib/k8s/types.js';
import { computeAllEndpoints, computeEndpoints, resolveTargetPort, SERVICE_NAME_LABEL } from './endpoints.js';

interface PodOpts {
  ip?: string;
  ready?: boolean;
  node?: string;
  labels?: Record<string, string>;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  namespace?: string;
  uid?: string;
  phase?: string;
  deleting?: boolean;
}

function pod(name: string, o: PodOpts = {}): KubeObject {
  const metadata: KubeObject['metadata'] = { name, namespace: o.namespace ?? 'shop', labels: o.labels ?? { app: 'web' } };
  if (o.uid) metadata.uid = o.uid;
  if (o.deleting) metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
  const status: Record<string, unknown> = { conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] };
  if (o.ip !== '') status['podIP'] = o.ip ?? '10.244.1.2';
  if (o.phase) status['phase'] = o.phase;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: { nodeName: o.node ?? 'node-0', containers: [{ name: 'c', ports: o.ports ?? [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] },
    status,
  };
}

function service(spec: Record<string, unknown>, name = 'web'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'shop', uid: 'svc-uid', labels: { team: 'a' } },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...spec },
  };
}

describe('computeEndpoints', () => {
  test('Endpoints and an EndpointSlice for ready and unready pods, sorted by IP', () => {
    const pods = [
      pod('b', { ip: '10.244.2.10', node: 'node-1', uid: 'uid-b' }),
      pod('a', { ip: '10.244.1.9', uid: 'uid-a' }),
      pod('c', { ip: '10.244.1.3', ready: false }),
    ];
    const { endpoints, endpointSlices } = computeEndpoints(service({}), pods);
    assert.deepEqual(endpoints, {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'web', namespace: 'shop', labels: { team: 'a' } },
      subsets: [
        {
          addresses: [
            { ip: '10.244.1.9', nodeName: 'node-0', targetRef: { kind: 'Pod', namespace: 'shop', name: 'a', uid: 'uid-a' } },
            { ip: '10.244.2.10', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'shop', name: 'b', uid: 'uid-b' } },
          ],
          notReadyAddresses: [{ ip: '10.244.1.3', nodeName: 'node-0', targetRef: { kind: 'Pod', namespace: 'shop', name: 'c' } }],
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        },
      ],
    });
    assert.equal(endpointSlices.length, 1);
    const slice = endpointSlices[0] as any;
    assert.equal(slice.apiVersion, 'discovery.k8s.io/v1');
    assert.equal(slice.kind, 'EndpointSlice');
    assert.match(slice.metadata.name, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(slice.metadata.labels, { team: 'a', [SERVICE_NAME_LABEL]: 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    assert.deepEqual(slice.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
    assert.equal(slice.addressType, 'IPv4');
    assert.deepEqual(slice.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.deepEqual(slice.endpoints, [
      { addresses: ['10.244.1.3'], conditions: { ready: false, serving: false, terminating: false }, targetRef: { kind: 'Pod', namespace: 'shop', name: 'c' }, nodeName: 'node-0' },
      { addresses: ['10.244.1.9'], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: 'shop', name: 'a', uid: 'uid-a' }, nodeName: 'node-0' },
      { addresses: ['10.244.2.10'], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: 'shop', name: 'b', uid: 'uid-b' }, nodeName: 'node-1' },
    ]);
  });

  test('selects by namespace and labels; skips pods without IP or finished', () => {
    const pods = [
      pod('ok'),
      pod('other-ns', { namespace: 'other' }),
      pod('other-app', { labels: { app: 'db' } }),
      pod('no-ip', { ip: '' }),
      pod('done', { phase: 'Succeeded', ip: '10.244.1.5' }),
    ];
    const slice = computeEndpoints(service({}), pods).endpointSlices[0] as any;
    assert.deepEqual(slice.endpoints.map((e: any) => e.targetRef.name), ['ok']);
  });

  test('named targetPorts resolve per pod; pods without the name are split out', () => {
    const svc = service({
      ports: [
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        { name: 'metrics', port: 9090, targetPort: 9100, protocol: 'TCP', appProtocol: 'http' },
      ],
    });
    const pods = [
      pod('v1', { ip: '10.244.1.2', ports: [{ name: 'http', containerPort: 8080 }] }),
      pod('v2', { ip: '10.244.1.3', ports: [{ name: 'http', containerPort: 9080 }] }),
      pod('noname', { ip: '10.244.1.4', ports: [{ containerPort: 8080 }] }),
    ];
    const { endpoints, endpointSlices } = computeEndpoints(svc, pods);
    assert.deepEqual(
      (endpoints as any).subsets.map((s: any) => [s.addresses.map((a: any) => a.ip), s.ports]),
      [
        [['10.244.1.2'], [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'TCP', appProtocol: 'http' }]],
        [['10.244.1.3'], [{ name: 'http', port: 9080, protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'TCP', appProtocol: 'http' }]],
        [['10.244.1.4'], [{ name: 'metrics', port: 9100, protocol: 'TCP', appProtocol: 'http' }]],
      ],
    );
    assert.equal(endpointSlices.length, 3);
    assert.equal(new Set(endpointSlices.map((s) => s.metadata.name)).size, 3, 'distinct slice names');
  });

  test('resolveTargetPort', () => {
    const p = pod('x', { ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'http', containerPort: 8080 }] });
    assert.equal(resolveTargetPort({ port: 80, protocol: 'TCP' }, p), 80, 'defaults to port');
    assert.equal(resolveTargetPort({ port: 80, protocol: 'TCP', targetPort: 8081 }, p), 8081);
    assert.equal(resolveTargetPort({ port: 80, protocol: 'TCP', targetPort: 'http' }, p), 8080);
    assert.equal(resolveTargetPort({ port: 53, protocol: 'UDP', targetPort: 'dns' }, p), 53);
    assert.equal(resolveTargetPort({ port: 53, protocol: 'TCP', targetPort: 'dns' }, p), undefined, 'protocol must match');
    assert.equal(resolveTargetPort({ port: 80, protocol: 'TCP', targetPort: 'missing' }, p), undefined);
  });

  test('publishNotReadyAddresses and terminating pods', () => {
    const pods = [pod('unready', { ip: '10.244.1.2', ready: false }), pod('leaving', { ip: '10.244.1.3', deleting: true })];
    const published = computeEndpoints(service({ publishNotReadyAddresses: true }), pods);
    assert.deepEqual((published.endpoints as any).subsets[0].addresses.map((a: any) => a.ip), ['10.244.1.2']);
    assert.deepEqual(
      (published.endpointSlices[0] as any).endpoints.map((e: any) => [e.targetRef.name, e.conditions]),
      [
        ['unready', { ready: true, serving: true, terminating: false }],
        ['leaving', { ready: false, serving: true, terminating: true }],
      ],
    );
  });

  test('no selector: not managed; no pods: one empty slice', () => {
    assert.deepEqual(computeEndpoints(service({ selector: undefined }), [pod('a')]), { endpoints: null, endpointSlices: [] });
    const empty = computeEndpoints(service({}), []);
    assert.deepEqual((empty.endpoints as any).subsets, undefined);
    assert.equal(empty.endpointSlices.length, 1);
    assert.deepEqual([(empty.endpointSlices[0] as any).endpoints, (empty.endpointSlices[0] as any).ports], [[], []]);
  });

  test('headless Services without ports still list addresses', () => {
    const { endpoints, endpointSlices } = computeEndpoints(service({ clusterIP: 'None', ports: undefined }), [pod('a')]);
    assert.deepEqual((endpoints as any).subsets, [{ addresses: [{ ip: '10.244.1.2', nodeName: 'node-0', targetRef: { kind: 'Pod', namespace: 'shop', name: 'a' } }] }]);
    assert.equal((endpointSlices[0] as any).metadata.labels['service.kubernetes.io/headless'], '');
    assert.deepEqual((endpointSlices[0] as any).ports, []);
  });

  test('more than 100 endpoints are split across slices', () => {
    const pods = Array.from({ length: 250 }, (_, i) => pod(`p${i}`, { ip: `10.244.${1 + Math.floor(i / 200)}.${2 + (i % 200)}` }));
    const { endpointSlices } = computeEndpoints(service({}), pods);
    assert.deepEqual(endpointSlices.map((s) => (s as any).endpoints.length), [100, 100, 50]);
    assert.equal(new Set(endpointSlices.map((s) => s.metadata.name)).size, 3);
  });

  test('deterministic, and tolerant of malformed objects', () => {
    const pods = [pod('a'), pod('b', { ip: '10.244.1.7' })];
    assert.deepEqual(computeEndpoints(service({}), pods), computeEndpoints(service({}), [...pods].reverse()));
    const junkPod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'j', namespace: 'shop', labels: { app: 'web' } }, spec: 5, status: { podIP: '10.244.1.9', conditions: 'x' } } as KubeObject;
    const junkSvc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [null, { port: 'x' }, { port: 80 }] } } as KubeObject;
    const result = computeEndpoints(junkSvc, [junkPod]);
    assert.deepEqual((result.endpointSlices[0] as any).endpoints[0].conditions, { ready: false, serving: false, terminating: false });
  });

  test('computeAllEndpoints keys results by namespace/name', () => {
    const all = computeAllEndpoints([service({}), service({}, 'api')], [pod('a')]);
    assert.deepEqual([...all.keys()], ['shop/web', 'shop/api']);
  });
});
