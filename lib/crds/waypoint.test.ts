import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateWaypoint } from './waypoint.js';

const wp = (spec: unknown): unknown => ({ apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name: 'waypoint' }, spec });

test('Waypoint: for and replicas', () => {
  assert.deepEqual(validateWaypoint(wp(undefined)), []);
  assert.deepEqual(validateWaypoint(wp(null)), [], 'a null spec is no spec, as the API server prunes it');
  for (const f of ['service', 'workload', 'all']) assert.deepEqual(validateWaypoint(wp({ for: f, replicas: 2 })), []);
  assert.deepEqual(validateWaypoint(wp({ for: 'services' })), [
    { path: 'spec.for', message: 'must be one of service, workload, all (got "services"; did you mean "service"?)' },
  ]);
  assert.deepEqual(validateWaypoint(wp({ replicas: -1 })), [{ path: 'spec.replicas', message: 'must be between 0 and 100 (got -1)' }]);
  assert.deepEqual(validateWaypoint(wp({ replicas: '2' })).map((e) => e.message), ['must be an integer (got "2"; remove the quotes)']);
  assert.deepEqual(validateWaypoint(wp({ replica: 2 })), [{ path: 'spec.replica', message: 'unknown field; did you mean "replicas"?' }]);
  assert.deepEqual(validateWaypoint(wp([])), [{ path: 'spec', message: 'must be a mapping of fields (got a list)' }]);
  assert.deepEqual(validateWaypoint({ ...(wp({ for: 'all' }) as object), status: { conditions: 'junk' } }), [], 'the status is not judged');
});
