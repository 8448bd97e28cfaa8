import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom as mulberry32 } from '../testing/seeded-random.js';
import { CRD_KINDS, validateResource } from './index.js';

/**
 * Validators must never throw and never hit their internal-error guard,
 * whatever they are fed: a controller watching a malformed object must be
 * able to reject it with a status condition, not crash.
 */

// Field names the validators look for, so random objects reach deep into them.
const VOCAB = [
  'spec', 'metadata', 'namespace', 'name', 'kind', 'group', 'port', 'targetRefs', 'selector', 'matchLabels', 'action', 'rules', 'from', 'to',
  'when', 'source', 'operation', 'principals', 'notPrincipals', 'namespaces', 'ipBlocks', 'ports', 'methods', 'paths', 'hosts', 'key', 'values',
  'notValues', 'mtls', 'mode', 'portLevelMtls', 'for', 'replicas', 'loadBalancer', 'type', 'consistentHash', 'header', 'connectionPool',
  'maxConnections', 'connectTimeout', 'outlierDetection', 'interval', 'maxEjectionPercent', 'retries', 'attempts', 'retryOn', 'timeout', 'fault',
  'delay', 'abort', 'fixedDelay', 'percentage', 'httpStatus', 'localRateLimit', 'maxTokens', 'fillInterval', 'parentRefs', 'hostnames',
  'matches', 'path', 'value', 'headers', 'queryParams', 'method', 'service', 'filters', 'requestHeaderModifier', 'set', 'add', 'remove',
  'requestMirror', 'backendRef', 'percent', 'fraction', 'numerator', 'denominator', 'requestRedirect', 'urlRewrite', 'replacePrefixMatch',
  'replaceFullPath', 'statusCode', 'backendRefs', 'weight', 'timeouts', 'request', 'backendRequest', '__proto__', 'constructor', 'toString',
];
const STRINGS = ['', 'ALLOW', 'Service', 'Waypoint', 'STRICT', 'ConsistentHash', 'PathPrefix', 'RegularExpression', 'URLRewrite', 'RequestMirror',
  'ReplacePrefixMatch', '1s', '10.0.0.0/8', '*', '/api/*', 'request.headers[x]', 'source.ip', 'destination.port', '(', 'a'.repeat(300), '\u0000', '80'];

function junk(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth <= 0 || r < 0.35) {
    const scalars = [null, undefined, 0, -1, 1.5, NaN, Infinity, 65536, true, false, STRINGS[Math.floor(rand() * STRINGS.length)]];
    return scalars[Math.floor(rand() * scalars.length)];
  }
  if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => junk(rand, depth - 1));
  const obj: Record<string, unknown> = rand() < 0.1 ? Object.create(null) : {};
  const n = Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) {
    const key = VOCAB[Math.floor(rand() * VOCAB.length)]!;
    Object.defineProperty(obj, key, { value: junk(rand, depth - 1), enumerable: true, configurable: true, writable: true });
  }
  return obj;
}

function deepNest(levels: number, asArray: boolean): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < levels; i++) v = asArray ? [v] : { spec: v, rules: [v] };
  return v;
}

function assertWellFormed(errors: unknown, label: string): void {
  assert.ok(Array.isArray(errors), label);
  for (const e of errors as { path: unknown; message: unknown }[]) {
    assert.equal(typeof e.path, 'string', label);
    assert.equal(typeof e.message, 'string', label);
    assert.doesNotMatch(e.message as string, /internal validation error/, `${label}: ${String(e.message)}`);
  }
}

const validators: [string, (v: unknown) => unknown][] = [...CRD_KINDS.map((k) => [k.kind, k.validate] as [string, (v: unknown) => unknown]), ['validateResource', validateResource]];

describe('validators on junk', () => {
  const fixed: unknown[] = [
    null, undefined, 0, 42, NaN, -Infinity, '', 'spec', true, [], [1, 2], {}, { spec: null }, { spec: 5 }, { spec: [] }, { spec: 'x' },
    { metadata: 7, spec: {} }, { metadata: { namespace: 5 }, spec: { targetRefs: 'x' } }, JSON.parse('{"__proto__": {"spec": 1}, "spec": {"__proto__": []}}'),
    Object.create(null), deepNest(5000, false), deepNest(5000, true), { spec: deepNest(2000, false) },
    { spec: { rules: Array.from({ length: 2000 }, () => ({ from: [{ source: { principals: ['*'] } }] })) } },
  ];

  for (const [name, validate] of validators) {
    test(`${name}: fixed junk`, () => {
      for (const [i, v] of fixed.entries()) assertWellFormed(validate(v), `${name} #${i}`);
    });

    test(`${name}: 3000 random documents`, () => {
      const rand = mulberry32(name.length * 7919);
      for (let i = 0; i < 3000; i++) {
        const spec = junk(rand, 6);
        const apiVersion = rand() < 0.5 ? 'ambit.dev/v1alpha1' : 'gateway.networking.k8s.io/v1';
        assertWellFormed(validate({ apiVersion, kind: name, metadata: { name: 'x', namespace: 'ns' }, spec }), `${name} random #${i}`);
        assertWellFormed(validate(junk(rand, 4)), `${name} raw #${i}`);
      }
    });
  }

  test('validateResource names unknown kinds and wrong versions', () => {
    assert.deepEqual(validateResource({ apiVersion: 'ambit.dev/v1alpha1', kind: 'Nope' }).map((e) => e.path), ['kind']);
    assert.deepEqual(validateResource({ apiVersion: 'ambit.dev/v1', kind: 'Waypoint' }), [
      { path: 'apiVersion', message: 'must be ambit.dev/v1alpha1 for Waypoint (got "ambit.dev/v1")' },
    ]);
    assert.deepEqual(validateResource(7), [{ path: '', message: 'must be a mapping of fields (got 7)' }]);
    assert.deepEqual(validateResource({ apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', metadata: { name: 'w' }, spec: { for: 'all' } }), []);
  });
});
