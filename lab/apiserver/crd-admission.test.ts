import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { CRD_DIR } from '../../lib/crds/schema.js';
import { ObjectStore } from './store.js';
import { isApiError } from './status.js';

const waypointCrd = () => parse(readFileSync(`${CRD_DIR}/waypoints.ambit.dev.yaml`, 'utf8'));
const waypoint = (spec: unknown) => ({ apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name: 'wp', namespace: 'shop' }, spec });

function store(withCrd: boolean): ObjectStore {
  const s = new ObjectStore();
  s.create('namespaces', { metadata: { name: 'shop' } });
  if (withCrd) s.create('customresourcedefinitions', waypointCrd());
  return s;
}

const invalid = (message: RegExp) => (err: unknown) => isApiError(err) && err.reason === 'Invalid' && err.httpStatus === 422 && message.test(err.message);

describe('admission by a stored CRD schema', () => {
  it('refuses what the schema refuses, as kube-apiserver words it, on create and on update', () => {
    const s = store(true);
    assert.throws(() => s.create('waypoints', waypoint({ for: 'everything', replicas: 500 })), invalid(/^Waypoint\.ambit\.dev "wp" is invalid: \[spec\.for: .*service, workload, all.*, spec\.replicas: .*100/));
    assert.throws(() => s.create('waypoints', waypoint({ fro: 'all' })), invalid(/^Waypoint\.ambit\.dev "wp" is invalid: spec\.fro: unknown field; did you mean "for"\?$/));
    s.create('waypoints', waypoint({ for: 'all' }));
    assert.throws(() => s.patch('waypoints', 'shop', 'wp', { spec: { replicas: -1 } }, 'merge'), invalid(/spec\.replicas/));
    assert.throws(() => s.apply(waypoint({ for: 7 })), invalid(/spec\.for/));
    assert.equal((s.get('waypoints', 'shop', 'wp').spec as { for: string }).for, 'all', 'a refused write changes nothing');
    // The status subresource is the controller's: not judged by the spec's schema.
    s.patch('waypoints', 'shop', 'wp', { status: { conditions: [] } }, 'merge', { subresource: 'status' });
  });

  it('checks nothing for a type without a stored CRD, as a lab without the chart serves them', () => {
    const s = store(false);
    s.create('waypoints', waypoint({ for: 'everything' }));
  });

  it('follows a CRD that changes', () => {
    const s = store(true);
    const crd = waypointCrd();
    crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.replicas.maximum = 1000;
    s.replace('customresourcedefinitions', crd, { name: 'waypoints.ambit.dev' });
    s.create('waypoints', waypoint({ replicas: 500 }));
  });
});
