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
  assert.deepEqual(msgs({ mtls: {} }), ['spec.mtls.mode: required']);
  assert.deepEqual(msgs({ mtls: 'STRICT' }), ['spec.mtls: must be a mapping of fields (got "STRICT")']);
  assert.deepEqual(msgs({ portLevelMtls: { 80: { mode: 'STRICT' } } }), [
    'spec.portLevelMtls: requires spec.selector: port-level modes apply to selected workloads only',
  ]);
  assert.deepEqual(msgs({ selector: { matchLabels: { a: 'b' } }, portLevelMtls: { http: { mode: 'STRICT' }, 0: { mode: 'X' } } }), [
    'spec.portLevelMtls["0"]: key must be a port number 1..65535 (got "0")',
    'spec.portLevelMtls["0"].mode: must be one of STRICT, PERMISSIVE (got "X")',
    'spec.portLevelMtls.http: key must be a port number 1..65535 (got "http")',
  ]);
});
