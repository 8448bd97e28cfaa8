import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerAuthentication } from '../xds/types.js';
import { acceptsPlaintextSomewhere, modeOnPort, workloadMtls } from './mtls.js';

const pa = (name: string, over: Partial<PeerAuthentication>): PeerAuthentication => ({
  namespace: 'shop',
  name,
  scope: 'NAMESPACE',
  selector: null,
  mode: 'UNSET',
  portLevelMtls: [],
  ...over,
});
const web: { namespace: string; labels: Record<string, string> } = { namespace: 'shop', labels: { app: 'web' } };
const modes = (policies: PeerAuthentication[], w = web) => {
  const m = workloadMtls(policies, w);
  return { mode: m.mode, ports: Object.fromEntries(m.ports), plaintext: acceptsPlaintextSomewhere(m) };
};

describe('mTLS mode of a workload (Istio precedence)', () => {
  it('is PERMISSIVE when nothing says otherwise; the narrowest scope that sets a mode wins', () => {
    assert.deepEqual(modes([]), { mode: 'PERMISSIVE', ports: {}, plaintext: true });
    const mesh = pa('mesh', { namespace: 'ambit-system', scope: 'MESH', mode: 'STRICT' });
    const ns = pa('ns', { mode: 'PERMISSIVE' });
    const sel = pa('sel', { scope: 'WORKLOAD_SELECTOR', selector: { matchLabels: { app: 'web' } }, mode: 'STRICT' });
    assert.equal(modes([mesh]).mode, 'STRICT');
    assert.equal(modes([mesh, ns]).mode, 'PERMISSIVE');
    assert.equal(modes([sel, mesh, ns]).mode, 'STRICT');
    assert.equal(modes([sel, ns], { namespace: 'shop', labels: { app: 'db' } }).mode, 'PERMISSIVE', 'the selector does not match db');
    assert.equal(modes([ns], { namespace: 'other', labels: {} }).mode, 'PERMISSIVE', 'another namespace');
  });

  it('a port-level mode overrides on its port; a selector policy with only ports inherits the mode', () => {
    const ns = pa('ns', { mode: 'STRICT' });
    const ports = pa('ports', { scope: 'WORKLOAD_SELECTOR', selector: { matchLabels: { app: 'web' } }, portLevelMtls: [{ port: 9090, mode: 'PERMISSIVE' }] });
    const m = workloadMtls([ns, ports], web);
    assert.deepEqual([m.mode, modeOnPort(m, 8080), modeOnPort(m, 9090)], ['STRICT', 'STRICT', 'PERMISSIVE']);
    assert.equal(acceptsPlaintextSomewhere(m), true, 'one PERMISSIVE port is enough to capture plaintext for the agent to sort');
    const strictPort = pa('strict-port', { scope: 'WORKLOAD_SELECTOR', selector: { matchLabels: { app: 'web' } }, mode: 'PERMISSIVE', portLevelMtls: [{ port: 8080, mode: 'STRICT' }] });
    assert.deepEqual(modes([strictPort]), { mode: 'PERMISSIVE', ports: { 8080: 'STRICT' }, plaintext: true });
    assert.deepEqual(modes([ns, pa('all-strict', { scope: 'WORKLOAD_SELECTOR', selector: { matchLabels: { app: 'web' } }, portLevelMtls: [{ port: 8080, mode: 'STRICT' }] })]).plaintext, false);
  });

  it('between two policies of one scope, the first by name decides each port', () => {
    const sel = (name: string, mode: 'STRICT' | 'PERMISSIVE') => pa(name, { scope: 'WORKLOAD_SELECTOR', selector: { matchLabels: { app: 'web' } }, portLevelMtls: [{ port: 80, mode }] });
    assert.deepEqual(modes([sel('b', 'PERMISSIVE'), sel('a', 'STRICT')]).ports, { 80: 'STRICT' });
  });
});
