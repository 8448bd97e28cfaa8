import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validatePeerAuthentication } from './peer-authentication.js';

const pa = (spec: unknown): unknown => ({ apiVersion: 'ambit.dev/v1alpha1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'ambit-system' }, spec });
const msgs = (spec: unknown): string[] => validatePeerAuthentication(pa(spec)).map((e) => `${e.path}: ${e.message}`);

test('PeerAuthentication: modes and scopes', () => {
  assert.deepEqual(msgs({ mtls: { mode: 'STRICT' } }), []);
  assert.deepEqual(msgs({ selector: { matchLabels: { app: 'db' } }, mtls: { mode: 'PERMISSIVE' }, portLevelMtls: { 5432: { mode: 'STRICT' } } }), []);
  assert.deepEqual(msgs({}), []);
  assert.deepEqual(msgs({ mtls: { mode: 'strict' } }), ['spec.mtls.mode: must be one of STRICT, PERMISSIVE (got "strict"; did you mean "STRICT"?)']);
  assert.deepEqual(msgs({ mtls: { mode: 'DISABLE' } }), [
    'spec.mtls.mode: DISABLE is not supported: Ambit always offers mTLS; use PERMISSIVE to also accept plaintext',
  ]);
  assert.deepEqual(msgs({ selector: { matchLabels: { a: 'b' } }, portLevelMtls: { 80: { mode: 'UNSET' } } }), [
    'spec.portLevelMtls["80"].mode: UNSET is not supported: omit mtls to inherit the mode of the wider scope',
  ]);
  assert.deepEqual(msgs({ mtls: {} }), ['spec.mtls.mode: required']);
  assert.deepEqual(msgs({ mtls: 'STRICT' }), ['spec.mtls: must be a mapping of fields (got "STRICT")']);
  assert.deepEqual(msgs({ portLevelMtls: { 80: { mode: 'STRICT' } } }), ['spec: portLevelMtls requires selector: port-level modes apply to selected workloads only']);
  assert.deepEqual(msgs({ selector: { matchLabels: { a: 'b' } }, portLevelMtls: { 0: { mode: 'X' } } }), ['spec.portLevelMtls["0"].mode: must be one of STRICT, PERMISSIVE (got "X")']);
  assert.deepEqual(msgs({ selector: { matchLabels: { a: 'b' } }, portLevelMtls: { 80: { mode: 'STRICT' }, http: { mode: 'STRICT' } } }), [
    'spec.portLevelMtls.http: keys must be port numbers 1..65535',
  ]);
  assert.deepEqual(msgs({ selector: { matchExpressions: [] } }), ['spec.selector.matchExpressions: not supported: a workload selector has only matchLabels (as in Istio)']);
});
