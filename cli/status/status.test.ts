import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSubject } from '../config-dump/index.js';
import { until } from '../format.js';
import { syncState } from './collect.js';
import { renderStatus } from './render.js';
import type { StatusReport } from './report.js';

const t = (over: object) => ({ latestVersion: '5', ackedVersion: '5', inflight: null, nacked: null, ...over });

describe('ambit status', () => {
  it('names each type\'s sync state as istioctl proxy-status does', () => {
    assert.equal(syncState(t({})).state, 'SYNCED');
    assert.equal(syncState(t({ inflight: { version: '6', sentAt: '' } })).state, 'STALE');
    assert.equal(syncState(t({ latestVersion: '6' })).state, 'STALE');
    assert.deepEqual(syncState(t({ latestVersion: '6', nacked: { version: '6', error: 'bad port', at: '' } })), { state: 'NACKED', acked: '5', latest: '6', error: 'bad port' });
    assert.equal(syncState(t({ ackedVersion: null })).state, 'NOT SENT');
    assert.equal(syncState(undefined).state, 'NOT SENT');
    assert.equal(syncState(t({ latestVersion: undefined })).state, 'SYNCED', 'a controller that does not say the latest');
  });

  it('renders a table per proxy and the problems with a hint', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    const report: StatusReport = {
      target: { kind: 'lab', name: 'x', server: 'http://127.0.0.1:1' },
      controlPlane: [{ name: 'controller', ready: true, detail: 'ready', streams: 2, servingCert: { notAfter: '2030-01-02T00:00:00Z' } }],
      proxies: [
        { kind: 'node-agent', name: 'agent-node1', node: 'node1', controller: 'controller', stream: 'connected', types: { Node: { state: 'SYNCED', acked: '3', latest: '3' }, Route: { state: 'NACKED', acked: '1', latest: '2', error: 'x' } }, certificates: [], certExpiry: '2030-01-01T05:00:00Z' },
        { kind: 'waypoint', name: 'ns/wp-0', node: 'node2', waypoint: { namespace: 'ns', name: 'wp' }, controller: undefined, stream: 'connecting', types: {}, certificates: [], certExpiry: undefined },
      ],
      healthy: false,
      problems: ['node-agent agent-node1: Route NACKED (x)'],
    };
    const text = renderStatus(report, now);
    assert.match(text, /^ambit status: lab x \(http:\/\/127\.0\.0\.1:1\)\n/);
    assert.match(text, /agent-node1\s+node-agent\s+node1\s+controller\s+SYNCED \(3\)\s+-\s+-\s+-\s+-\s+NACKED\s+5h0m/);
    assert.match(text, /ns\/wp-0\s+waypoint wp\s+node2\s+NOT CONNECTED \(connecting\)/);
    assert.match(text, /Problems:\n  × node-agent agent-node1: Route NACKED \(x\)\n/);
  });

  it('durations until expiry', () => {
    assert.equal(until(3 * 86_400_000 + 4 * 3_600_000, 0), '3d4h');
    assert.equal(until(42 * 60_000, 0), '42m');
    assert.equal(until(-2 * 3_600_000, 0), '-2h0m');
  });
});

describe('ambit config-dump arguments', () => {
  it('a node, a pod or a waypoint', () => {
    assert.deepEqual(parseSubject(['node1']), { kind: 'node', node: 'node1' });
    assert.deepEqual(parseSubject(['shop/web-1']), { kind: 'pod', namespace: 'shop', name: 'web-1' });
    assert.deepEqual(parseSubject(['waypoint', 'shop/wp']), { kind: 'waypoint', namespace: 'shop', name: 'wp' });
    assert.throws(() => parseSubject([]), /name a NODE/);
    assert.throws(() => parseSubject(['waypoint']), /waypoint takes one/);
    assert.throws(() => parseSubject(['a', 'b']), /one proxy at a time/);
    assert.throws(() => parseSubject(['Bad_Node']), /not a node name/);
  });
});
