import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { AUTHZ_ACTIONS } from './authorization-policy.js';
import { CEL_TWINS } from './cel-twins.js';
import { MTLS_MODES } from './peer-authentication.js';
import { CRD_DIR, CRD_DIR_IN_PACKAGE, compileCrdSchema, crdSchemaErrors, crdSchemas, loadCrds } from './schema.js';
import { unknownFieldNote } from './schema-errors.js';
import { LB_TYPES, RETRY_ON, validateTrafficPolicy } from './traffic-policy.js';
import { WAYPOINT_FOR } from './waypoint.js';

type Rec = Record<string, unknown>;
const packageRoot = resolve(CRD_DIR, ...CRD_DIR_IN_PACKAGE.split('/').map(() => '..'));
const meta = { name: 'p', namespace: 'shop' };
const obj = (kind: string, spec: unknown): Rec => ({ apiVersion: 'ambit.dev/v1alpha1', kind, metadata: meta, spec });
const lines = (kind: string, spec: unknown): string[] => (crdSchemaErrors(obj(kind, spec)) ?? [{ path: '', message: 'no CRD' }]).map((e) => `${e.path}: ${e.message}`);

/** Every schema node of every CRD, with where it is. */
function schemaNodes(): { where: string; node: Rec }[] {
  const out: { where: string; node: Rec }[] = [];
  const walk = (v: unknown, where: string): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${where}[${i}]`));
    else if (v && typeof v === 'object') {
      out.push({ where, node: v as Rec });
      for (const [k, x] of Object.entries(v)) if (k !== 'x-kubernetes-validations' && k !== 'enum') walk(x, `${where}.${k}`);
    }
  };
  for (const { crd } of loadCrds()) crd.spec.versions.forEach((v) => walk(v.schema.openAPIV3Schema, `${crd.spec.names.kind}:`));
  return out;
}

describe('CRD schemas at run time', () => {
  test('are found from dist/ below the package root, as the image lays them out', () => {
    assert.ok(existsSync(join(packageRoot, 'package.json')), packageRoot);
    assert.ok(existsSync(join(packageRoot, 'dist', 'lib', 'crds', 'schema.js')), 'this runs from dist/');
    assert.deepEqual([...crdSchemas().keys()].sort(), ['AuthorizationPolicy', 'PeerAuthentication', 'TrafficPolicy', 'Waypoint'].map((k) => `ambit.dev/v1alpha1/${k}`));
  });

  test('the image copies them to the same place relative to dist/', () => {
    const dockerfile = readFileSync(join(packageRoot, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const copies = [...runtime.matchAll(/^COPY (?:--from=\S+ )?(\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]);
    assert.ok(copies.some(([, to]) => to === 'dist'), 'dist/ at the package root');
    assert.ok(copies.some(([from, to]) => from === CRD_DIR_IN_PACKAGE && to === CRD_DIR_IN_PACKAGE), `COPY ${CRD_DIR_IN_PACKAGE} ${CRD_DIR_IN_PACKAGE} in the runtime stage`);
  });

  test('every CEL rule has a twin, and every twin a rule', () => {
    const rules = new Set(schemaNodes().flatMap(({ node }) => ((node['x-kubernetes-validations'] ?? []) as { rule: string }[]).map((r) => r.rule)));
    assert.deepEqual([...rules].sort(), Object.keys(CEL_TWINS).sort());
  });

  test('a CEL rule without a twin fails the compile', () => {
    assert.throws(() => compileCrdSchema({ type: 'object', 'x-kubernetes-validations': [{ rule: 'self.size() > 1' }] }), /CEL rule without a JavaScript twin.*self\.size\(\) > 1/);
  });

  test('every pattern and choice of types has a description that says what the value must be, and every CEL rule a message', () => {
    for (const { where, node } of schemaNodes()) {
      if (node.pattern !== undefined && node.pattern !== '[1-9]') assert.match(String(node.description), /^(A|An|One) /, `${where}: a noun phrase`);
      const typeChoice = Array.isArray(node.anyOf) && node.anyOf.every((b: Rec) => b.type !== undefined);
      if (typeChoice) assert.match(String(node.description), /^(A|An|One) /, `${where}: a choice of types`);
      for (const r of (node['x-kubernetes-validations'] ?? []) as { message?: string }[]) assert.equal(typeof r.message, 'string', `${where}: CEL message`);
    }
  });

  test('their enums are the TypeScript constants', () => {
    const enums = (kind: string): unknown[][] =>
      schemaNodes()
        .filter(({ where, node }) => where.startsWith(`${kind}:`) && Array.isArray(node.enum) && !where.includes('.status.'))
        .map(({ node }) => node.enum as unknown[]);
    assert.deepEqual(enums('Waypoint'), [[...WAYPOINT_FOR]]);
    assert.deepEqual(enums('PeerAuthentication'), [[...MTLS_MODES], [...MTLS_MODES]]);
    assert.deepEqual(enums('TrafficPolicy'), [['Service'], [...LB_TYPES]]);
    assert.deepEqual(enums('AuthorizationPolicy'), [['Service', 'Waypoint'], [...AUTHZ_ACTIONS]]);
    const tp = (retryOn: string[]): unknown => ({ ...obj('TrafficPolicy', { targetRefs: [{ kind: 'Service', name: 'web' }], retries: { attempts: 1, retryOn } }) });
    assert.deepEqual(validateTrafficPolicy(tp([...RETRY_ON, '503'])), [], 'retryOn accepts what the waypoint retries on');
  });
});

describe('schema errors', () => {
  test('unknown fields: the near miss, or the known fields', () => {
    assert.deepEqual(lines('Waypoint', { replica: 2, colour: 'red' }), ['spec.replica: unknown field; did you mean "replicas"?', 'spec.colour: unknown field (known fields: for, replicas)']);
    assert.deepEqual(lines('Waypoint', {}).length, 0);
    assert.deepEqual(crdSchemaErrors({ ...obj('Waypoint', {}), extra: 1 }), [{ path: 'extra', message: 'unknown field (known fields: apiVersion, kind, metadata, spec, status)' }]);
  });

  test('types: what was got, with the quoting hint only where quoting fixes it', () => {
    assert.deepEqual(lines('AuthorizationPolicy', { selector: { matchLabels: { version: 2 } } }), [
      'spec.selector.matchLabels.version: must be a label value (letters, digits, "-", "_" and ".", beginning and ending with a letter or digit), or empty (got 2; quote it if it is meant as text: "2")',
    ]);
    assert.match(lines('TrafficPolicy', { targetRefs: [{ kind: 'Service', name: 'w' }], timeout: 5 })[0]!, /^spec\.timeout: must be a duration like "5s" .* \(got 5\)$/);
    assert.deepEqual(lines('Waypoint', { replicas: '3' }), ['spec.replicas: must be an integer (got "3"; remove the quotes)']);
    assert.deepEqual(lines('Waypoint', { for: true }), ['spec.for: must be one of service, workload, all (got true)']);
    assert.deepEqual(lines('AuthorizationPolicy', { rules: { from: [] } }), ['spec.rules: must be a list (got a mapping)']);
    assert.deepEqual(crdSchemaErrors({ ...obj('Waypoint', {}), metadata: 'x' }), [{ path: 'metadata', message: 'must be a mapping of fields (got "x")' }]);
  });

  test('enums list the allowed values and suggest the near miss', () => {
    assert.deepEqual(lines('AuthorizationPolicy', { action: 'deny' }), ['spec.action: must be one of ALLOW, DENY, AUDIT (got "deny"; did you mean "DENY"?)']);
    assert.deepEqual(lines('AuthorizationPolicy', { action: 'CUSTOM' }), ['spec.action: must be one of ALLOW, DENY, AUDIT (got "CUSTOM")']);
  });

  test('bounds', () => {
    assert.deepEqual(lines('Waypoint', { replicas: 101 }), ['spec.replicas: must be between 0 and 100 (got 101)']);
    const tp = (spec: Rec): string[] => lines('TrafficPolicy', { targetRefs: [{ kind: 'Service', name: 'w' }], ...spec });
    assert.deepEqual(tp({ localRateLimit: { maxTokens: 0, fillInterval: '1s' } }), ['spec.localRateLimit.maxTokens: must be at least 1 (got 0)']);
    assert.deepEqual(tp({ retries: { attempts: 1, retryOn: [] } }), ['spec.retries.retryOn: must not be empty']);
    const refs = Array.from({ length: 17 }, (_, i) => ({ kind: 'Service', name: `s${i}` }));
    assert.deepEqual(lines('TrafficPolicy', { targetRefs: refs }), ['spec.targetRefs: must have at most 16 items (got 17)']);
    assert.deepEqual(lines('AuthorizationPolicy', { selector: { matchLabels: { a: 'x'.repeat(64) } } }), ['spec.selector.matchLabels.a: must have at most 63 characters (got 64)']);
  });

  test('paths: list items, map keys that are not identifiers, digits that are keys', () => {
    assert.deepEqual(lines('AuthorizationPolicy', { rules: [{}, { from: [{ source: { namespaces: ['ok', 'Bad'] } }] }] }).map((l) => l.split(':')[0]), ['spec.rules[1].from[0].source.namespaces[1]']);
    assert.deepEqual(lines('AuthorizationPolicy', { selector: { matchLabels: { 'app.kubernetes.io/name': 3 } } }).map((l) => l.split(': ')[0]), ['spec.selector.matchLabels["app.kubernetes.io/name"]']);
    assert.deepEqual(lines('PeerAuthentication', { selector: { matchLabels: { a: 'b' } }, portLevelMtls: { 8080: { mode: 'X' } } }).map((l) => l.split(': ')[0]), ['spec.portLevelMtls["8080"].mode']);
  });

  test('anyOf: one message, not one per branch', () => {
    assert.deepEqual(lines('AuthorizationPolicy', { rules: [{ to: [{ operation: { ports: [{ port: 80 }] } }] }] }), [
      'spec.rules[0].to[0].operation.ports[0]: must be a port number 1..65535, as a number or a string of digits (got a mapping)',
    ]);
    assert.deepEqual(lines('AuthorizationPolicy', { rules: [{ when: [{ key: 'source.ip' }] }] }), ['spec.rules[0].when[0]: must set values or notValues']);
  });

  test('oneOf: a choice of fields, or the errors of the closest branch', () => {
    const check = compileCrdSchema({
      type: 'object',
      properties: {
        backend: {
          type: 'object',
          properties: { port: { type: 'integer' }, url: { type: 'string' } },
          oneOf: [{ required: ['port'] }, { required: ['url'] }],
        },
        target: {
          type: 'object',
          properties: { port: { type: 'integer' }, url: { type: 'string' } },
          oneOf: [
            { required: ['port'], properties: { port: { minimum: 1 } } },
            { required: ['url'], properties: { url: { description: 'An http or https URL.', pattern: '^https?://' } } },
          ],
        },
      },
    });
    const errors = (o: unknown): string[] => check(o).errors.map((e) => `${e.path}: ${e.message}`);
    assert.deepEqual(errors({ backend: {} }), ['backend: must set port or url']);
    assert.deepEqual(errors({ backend: { port: 1, url: 'x' } }), ['backend: set only one of port, url']);
    assert.deepEqual(errors({ target: { url: 'ftp://x' } }), ['target.url: must be an http or https URL (got "ftp://x")']);
    assert.deepEqual(errors({ target: { port: 0 } }), ['target.port: must be at least 1 (got 0)']);
  });

  test('CEL rules: their message, at the entry that breaks them', () => {
    assert.deepEqual(lines('AuthorizationPolicy', { targetRefs: [{ kind: 'Service', name: 'a' }], selector: { matchLabels: { a: 'b' } } }), ['spec: set only one of targetRefs, selector']);
    assert.deepEqual(lines('AuthorizationPolicy', { targetRefs: [{ kind: 'Service', name: 'a' }, { kind: 'Waypoint', name: 'a' }, { kind: 'Service', name: 'a' }] }), [
      'spec.targetRefs[2]: targets must not repeat (the same kind and name twice)',
    ]);
    assert.deepEqual(lines('PeerAuthentication', { selector: { matchLabels: { a: 'b' } }, portLevelMtls: { 80: { mode: 'STRICT' }, 70000: { mode: 'STRICT' } } }), [
      'spec.portLevelMtls["70000"]: keys must be port numbers 1..65535',
    ]);
    // A rule is checked once the value at its place is well formed; until then its errors are the schema's.
    assert.deepEqual(lines('AuthorizationPolicy', { targetRefs: ['web', 'web'] }), ['spec.targetRefs[0]: must be a mapping of fields (got "web")', 'spec.targetRefs[1]: must be a mapping of fields (got "web")']);
  });

  test('hints replace the message of their field', () => {
    const check = compileCrdSchema({ type: 'object', properties: { a: { type: 'string' } } });
    const hints = { targetRef: unknownFieldNote('use targetRefs (a list)'), a: unknownFieldNote('never used: a is known') };
    assert.deepEqual(check({ targetRef: {}, a: 1 }, hints).errors, [
      { path: 'targetRef', message: 'use targetRefs (a list)' },
      { path: 'a', message: 'must be a string (got 1; quote it if it is meant as text: "1")' },
    ]);
  });

  test('null fields are absent, as the API server prunes them; odd keys are plain keys', () => {
    assert.deepEqual(lines('TrafficPolicy', { targetRefs: [{ kind: 'Service', name: 'w', namespace: null }], timeout: null }), []);
    assert.deepEqual(lines('TrafficPolicy', null), ['spec: required']);
    assert.deepEqual(lines('Waypoint', JSON.parse('{"__proto__": {"replicas": 1}, "constructor": 1}')), [
      'spec.__proto__: unknown field (known fields: for, replicas)',
      'spec.constructor: unknown field (known fields: for, replicas)',
    ]);
  });
});
