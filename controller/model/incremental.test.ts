import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logger } from '../../lib/log.js';
import type { Service, Workload } from '../../lib/xds/index.js';
import { MeshModel } from './model.js';

/** Objects as informers deliver them, fed straight to the model's writer. */
const ns = (name: string, meshed: boolean) => ({ metadata: { name, uid: `ns-${name}`, labels: meshed ? { 'ambit.dev/dataplane-mode': 'ambient' } : ({} as Record<string, string>) } });
const pod = (namespace: string, name: string, node: string, app: string) => ({
  metadata: { name, namespace, uid: `uid-${name}`, labels: { app } },
  spec: { nodeName: node },
  status: { phase: 'Running', podIP: `10.0.0.${name.length}` },
});
const svc = (namespace: string, name: string) => ({ metadata: { name, namespace, uid: `svc-${name}` }, spec: { clusterIP: '10.96.0.1', ports: [{ port: 80 }] } });

function model(): MeshModel {
  const m = new MeshModel({ trustDomain: 'cluster.local', rootNamespace: 'ambit-system', log: logger('test', 'model') });
  m.apply('Namespace', 'add', ns('shop', true));
  m.apply('Namespace', 'add', ns('other', true));
  m.apply('Pod', 'add', pod('shop', 'web-1', 'node-a', 'web'));
  m.apply('Pod', 'add', pod('shop', 'web-2', 'node-b', 'web'));
  m.apply('Pod', 'add', pod('other', 'db-1', 'node-a', 'db'));
  m.apply('Service', 'add', svc('shop', 'web'));
  m.apply('Service', 'add', svc('other', 'db'));
  return m;
}

describe('the model rebuilds only what a change touched', () => {
  it('a pod change rebuilds that workload; the others stay the same objects', () => {
    const m = model();
    const before = new Map(m.resources('Workload'));
    m.apply('Pod', 'update', { ...pod('shop', 'web-2', 'node-b', 'web'), metadata: { ...pod('shop', 'web-2', 'node-b', 'web').metadata, labels: { app: 'web', v: '2' } } });
    const after = m.resources('Workload');
    assert.equal(after.get('uid-web-1'), before.get('uid-web-1'));
    assert.equal(after.get('uid-db-1'), before.get('uid-db-1'));
    assert.notEqual(after.get('uid-web-2'), before.get('uid-web-2'));
    assert.deepEqual((after.get('uid-web-2') as Workload).labels, { app: 'web', v: '2' });
    m.apply('Pod', 'delete', pod('shop', 'web-2', 'node-b', 'web'));
    assert.deepEqual([...m.resources('Workload').keys()].sort(), ['uid-db-1', 'uid-web-1']);
  });

  it("a namespace label rebuilds that namespace's workloads and Services only", () => {
    const m = model();
    const workloads = new Map(m.resources('Workload'));
    const services = new Map(m.resources('Service'));
    m.apply('Namespace', 'update', ns('shop', false));
    assert.equal((m.resources('Workload').get('uid-web-1') as Workload).meshed, false);
    assert.equal(m.resources('Workload').get('uid-db-1'), workloads.get('uid-db-1'));
    assert.notEqual(m.resources('Service').get('shop/web'), services.get('shop/web'));
    assert.equal(m.resources('Service').get('other/db'), services.get('other/db'));
  });

  it('an EndpointSlice rebuilds its Service, also when it moves to another', () => {
    const m = model();
    const slice = (service: string) => ({
      metadata: { name: 'web-abc', namespace: 'shop', uid: 's1', labels: { 'kubernetes.io/service-name': service } },
      addressType: 'IPv4',
      ports: [{ port: 80 }],
      endpoints: [{ addresses: ['10.0.0.5'], nodeName: 'node-a', targetRef: { kind: 'Pod', name: 'web-1', uid: 'uid-web-1' } }],
    });
    m.apply('Service', 'add', svc('shop', 'api'));
    m.apply('EndpointSlice', 'add', slice('web'));
    assert.equal((m.resources('Service').get('shop/web') as Service).endpoints.length, 1);
    m.apply('EndpointSlice', 'update', slice('api'));
    assert.equal((m.resources('Service').get('shop/web') as Service).endpoints.length, 0);
    assert.equal((m.resources('Service').get('shop/api') as Service).endpoints.length, 1);
  });
});
