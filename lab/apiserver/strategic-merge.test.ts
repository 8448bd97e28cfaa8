import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyStrategicMergePatch } from './strategic-merge.js';

describe('strategic merge patch', () => {
  const svc = { spec: { ports: [{ port: 80, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }], selector: { app: 'web' } }, metadata: { finalizers: ['a', 'b'] } };

  it('follows kubectl apply hints: $setElementOrder, $patch: delete, $deleteFromPrimitiveList', () => {
    // What `kubectl apply` sends after port 80 became 8080 in the manifest.
    const patch = {
      spec: { '$setElementOrder/ports': [{ port: 8080 }, { port: 443 }], ports: [{ port: 8080, protocol: 'TCP' }, { $patch: 'delete', port: 80 }] },
      metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] },
    };
    assert.deepEqual(applyStrategicMergePatch(svc, patch), {
      spec: { ports: [{ port: 8080, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }], selector: { app: 'web' } },
      metadata: { finalizers: ['b'] },
    });
  });

  it('merges well-known lists by key without hints and replaces unknown lists', () => {
    const pod = { spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '1' }], args: ['x', 'y'] } };
    const out = applyStrategicMergePatch(pod, { spec: { containers: [{ name: 'b', image: '2' }], args: ['z'] } });
    assert.deepEqual(out, { spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '2' }], args: ['z'] } });
  });

  it('honours $patch: replace and null deletes, and never stores directives', () => {
    const out = applyStrategicMergePatch(svc, { spec: { $patch: 'replace', ports: [{ port: 1 }] }, metadata: { finalizers: null } });
    assert.deepEqual(out, { spec: { ports: [{ port: 1 }] }, metadata: {} });
    assert.doesNotMatch(JSON.stringify(applyStrategicMergePatch({}, { a: [{ $patch: 'delete', name: 'x' }], '$setElementOrder/b': [] })), /\$/);
  });
});
