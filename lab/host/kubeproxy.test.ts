import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderRules } from './kubeproxy.js';

describe('lab kube-proxy rules', () => {
  it('balances each ClusterIP port over its endpoints and rejects ports without any', () => {
    const text = renderRules([
      { clusterIP: '10.96.0.11', port: 53, protocol: 'UDP', endpoints: [{ ip: '10.244.1.9', port: 5353 }] },
      { clusterIP: '10.96.0.10', port: 80, protocol: 'TCP', endpoints: [{ ip: '10.244.1.2', port: 8080 }, { ip: '10.244.2.2', port: 8080 }] },
      { clusterIP: '10.96.0.12', port: 443, protocol: 'TCP', endpoints: [] },
    ]);
    assert.match(text, /ip daddr 10\.96\.0\.10 tcp dport 80 dnat ip to numgen random mod 2 map \{ 0 : 10\.244\.1\.2 \. 8080, 1 : 10\.244\.2\.2 \. 8080 \}/);
    assert.match(text, /ip daddr 10\.96\.0\.11 udp dport 53 dnat ip to numgen random mod 1/);
    assert.match(text, /\{ 10\.96\.0\.12 \. 443 \} reject with tcp reset/);
    // Replaced atomically: the table is declared, deleted and rebuilt in one transaction.
    assert.ok(text.startsWith('table ip ambitlab\ndelete table ip ambitlab\n'));
    assert.ok(text.indexOf('10.96.0.10') < text.indexOf('10.96.0.11'), 'stable order');
  });
});
