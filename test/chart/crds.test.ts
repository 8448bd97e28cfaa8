import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { AMBIT_API_VERSION, CRD_KINDS, crdSchemaErrors, validateResource } from '../../lib/crds/index.js';
import { loadCrds } from '../../lib/crds/schema.js';
import { repoRoot } from './helm.js';

/**
 * The CRDs in charts/ambit/crds, which lib/crds validates with (the schema,
 * then the checks no schema can express): every ambit.dev object the project
 * ships or documents passes, and malformed ones fail at the field that is
 * wrong. What only code can check (it needs the object's namespace, or a
 * value's grammar depends on another field) is listed with the reason, and
 * the schema is held to accepting exactly those, so no check is made twice.
 */

type Obj = Record<string, unknown>;
const AMBIT_KINDS = CRD_KINDS.filter((k) => k.apiVersion === AMBIT_API_VERSION).map((k) => k.kind);

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, name.name);
    if (name.isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(name.name)) out.push(p);
  }
  return out;
}

/** Every ambit.dev object in docs (YAML code blocks), examples/, bench/ and the test fixtures. */
function shippedSamples(): { where: string; obj: Obj }[] {
  const texts: { where: string; text: string }[] = [];
  for (const f of readdirSync(join(repoRoot, 'docs')).filter((n) => n.endsWith('.md'))) {
    const md = readFileSync(join(repoRoot, 'docs', f), 'utf8');
    let n = 0;
    for (const m of md.matchAll(/```ya?ml\n([\s\S]*?)```/g)) texts.push({ where: `docs/${f} block ${++n}`, text: m[1]! });
  }
  for (const dir of ['examples', 'bench', join('test', 'e2e', 'fixtures'), join('test', 'fuzz')]) {
    for (const f of yamlFiles(join(repoRoot, dir))) texts.push({ where: relative(repoRoot, f), text: readFileSync(f, 'utf8') });
  }
  const out: { where: string; obj: Obj }[] = [];
  for (const { where, text } of texts) {
    for (const doc of parseAllDocuments(text)) {
      const obj = doc.toJS() as Obj | null;
      if (obj && obj.apiVersion === AMBIT_API_VERSION) out.push({ where: `${where}: ${String(obj.kind)} ${String((obj.metadata as Obj | undefined)?.name)}`, obj });
    }
  }
  return out;
}

const meta = { name: 'p', namespace: 'shop' };
const ap = (spec: unknown): Obj => ({ apiVersion: AMBIT_API_VERSION, kind: 'AuthorizationPolicy', metadata: meta, spec });
const pa = (spec: unknown): Obj => ({ apiVersion: AMBIT_API_VERSION, kind: 'PeerAuthentication', metadata: meta, spec });
const tp = (spec: Obj): Obj => ({ apiVersion: AMBIT_API_VERSION, kind: 'TrafficPolicy', metadata: meta, spec: { targetRefs: [{ kind: 'Service', name: 'web' }], ...spec } });
const wp = (spec: unknown): Obj => ({ apiVersion: AMBIT_API_VERSION, kind: 'Waypoint', metadata: meta, spec });
const rule = (r: Obj): Obj => ap({ rules: [r] });
const from = (source: Obj): Obj => rule({ from: [{ source }] });
const to = (operation: Obj): Obj => rule({ to: [{ operation }] });

/** Valid objects beyond the shipped ones: every field of every kind, at its edges. */
const VALID: [string, Obj][] = [
  ['Waypoint, all fields', wp({ for: 'all', replicas: 0 })],
  ['Waypoint without spec', { apiVersion: AMBIT_API_VERSION, kind: 'Waypoint', metadata: meta }],
  ['AuthorizationPolicy, every L4 and L7 field', ap({
    selector: { matchLabels: { app: 'web', 'app.kubernetes.io/name': 'web', tier: '' } },
    action: 'DENY',
    rules: [{
      from: [{ source: { principals: ['cluster.local/ns/a/sa/b', 'spiffe://td/ns/a/sa/c', '*', '*/sa/x', 'cluster.local/ns/a/*'], notPrincipals: ['*/sa/evil'], namespaces: ['shop', 'team-*', '*-prod'], notNamespaces: ['kube-system'], ipBlocks: ['10.0.0.0/8', '192.168.1.7', '10.1.0.0/032', 'fd00::/8', '::1'], notIpBlocks: ['10.9.0.0/16'] } }],
      to: [{ operation: { ports: [8080, '443', '00080'], notPorts: [65535], methods: ['GET', 'P*', '*'], notMethods: ['DELETE'], paths: ['/api/*', '/exact', '*.png', '*', '/users/{*}/profile'], notPaths: ['/admin'], hosts: ['example.com', '*.example.com', 'api.*'], notHosts: ['evil.com'] } }],
      when: [
        { key: 'source.ip', values: ['10.0.0.1'] },
        { key: 'destination.port', notValues: ['22'] },
        { key: 'request.headers[x-user]', values: ['alice'] },
        { key: 'request.headers[:authority]', values: ['a'] },
        { key: 'connection.sni', values: ['*.local'] },
      ],
    }],
  })],
  ['AuthorizationPolicy targeting a Service and a Waypoint', ap({ targetRefs: [{ kind: 'Service', name: 'web', group: '' }, { kind: 'Waypoint', name: 'web', group: 'ambit.dev', namespace: 'shop' }], action: 'AUDIT' })],
  ['AuthorizationPolicy with core group', ap({ targetRefs: [{ group: 'core', kind: 'Service', name: 'web' }] })],
  ['AuthorizationPolicy with an empty rule (matches everything)', ap({ action: 'ALLOW', rules: [{}] })],
  ['AuthorizationPolicy without rules (ALLOW nothing)', ap({})],
  ['PeerAuthentication with port modes', pa({ selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { '8080': { mode: 'PERMISSIVE' }, '65535': { mode: 'STRICT' } } })],
  ['PeerAuthentication inheriting its mode', pa({})],
  ['TrafficPolicy, every field', tp({
    loadBalancer: { type: 'ConsistentHash', consistentHash: { header: 'x-user' } },
    connectionPool: { maxConnections: 100, maxPendingRequests: 10, maxRequestsPerConnection: 0, connectTimeout: '2s' },
    outlierDetection: { consecutive5xxErrors: 0, consecutiveGatewayErrors: 3, interval: '10s', baseEjectionTime: '1m30s', maxEjectionPercent: 50.5 },
    retries: { attempts: 0, perTryTimeout: '250ms', retryOn: ['5xx', 'connect-failure', '503', 'unavailable'] },
    timeout: '0s',
    fault: { delay: { fixedDelay: '10ms', percentage: 0 }, abort: { httpStatus: 503, percentage: 100 } },
    localRateLimit: { maxTokens: 100, tokensPerFill: 10, fillInterval: '1s' },
  })],
  ['TrafficPolicy, round robin', tp({ loadBalancer: { type: 'RoundRobin' } })],
];

/**
 * Malformed objects, each with the one field the validators must name. `codeOnly` marks
 * what the schema cannot reject (it accepts them) and the code after it does, with why.
 */
const INVALID: { name: string; at: string; obj: Obj; codeOnly?: string }[] = [
  { name: 'Waypoint: for unknown', at: 'spec.for', obj: wp({ for: 'services' }) },
  { name: 'Waypoint: replicas over 100', at: 'spec.replicas', obj: wp({ replicas: 101 }) },
  { name: 'Waypoint: replicas negative', at: 'spec.replicas', obj: wp({ replicas: -1 }) },
  { name: 'Waypoint: replicas as a string', at: 'spec.replicas', obj: wp({ replicas: '2' }) },
  { name: 'Waypoint: unknown field', at: 'spec.replica', obj: wp({ replica: 2 }) },
  { name: 'Waypoint: spec a list', at: 'spec', obj: wp([]) },
  { name: 'AP: action lower case', at: 'spec.action', obj: ap({ action: 'allow' }) },
  { name: 'AP: CUSTOM action', at: 'spec.action', obj: ap({ action: 'CUSTOM' }) },
  { name: 'AP: provider (CUSTOM authz)', at: 'spec.provider', obj: ap({ provider: { name: 'x' } }) },
  { name: 'AP: targetRef (singular)', at: 'spec.targetRef', obj: ap({ targetRef: { kind: 'Service', name: 'web' } }) },
  { name: 'AP: targetRefs and selector', at: 'spec', obj: ap({ targetRefs: [{ kind: 'Service', name: 'web' }], selector: { matchLabels: { a: 'b' } } }) },
  { name: 'AP: targetRefs empty', at: 'spec.targetRefs', obj: ap({ targetRefs: [] }) },
  { name: 'AP: target kind Pod', at: 'spec.targetRefs[0].kind', obj: ap({ targetRefs: [{ kind: 'Pod', name: 'web' }] }) },
  { name: 'AP: target without name', at: 'spec.targetRefs[0].name', obj: ap({ targetRefs: [{ kind: 'Service' }] }) },
  { name: 'AP: target name not DNS', at: 'spec.targetRefs[0].name', obj: ap({ targetRefs: [{ kind: 'Service', name: 'Web_1' }] }) },
  { name: 'AP: Service target in ambit.dev', at: 'spec.targetRefs[0]', obj: ap({ targetRefs: [{ group: 'ambit.dev', kind: 'Service', name: 'web' }] }) },
  { name: 'AP: Waypoint target in core', at: 'spec.targetRefs[0]', obj: ap({ targetRefs: [{ group: '', kind: 'Waypoint', name: 'wp' }] }) },
  { name: 'AP: the same target twice', at: 'spec.targetRefs[1]', obj: ap({ targetRefs: [{ kind: 'Service', name: 'web' }, { kind: 'Service', name: 'web' }] }) },
  { name: 'AP: target in another namespace', at: 'spec.targetRefs[0].namespace', obj: ap({ targetRefs: [{ kind: 'Service', name: 'web', namespace: 'other' }] }), codeOnly: "a schema cannot compare a field with the object's own namespace" },
  { name: 'AP: selector with matchExpressions', at: 'spec.selector.matchExpressions', obj: ap({ selector: { matchExpressions: [] } }) },
  { name: 'AP: selector with empty matchLabels', at: 'spec.selector.matchLabels', obj: ap({ selector: { matchLabels: {} } }) },
  { name: 'AP: label value a number', at: 'spec.selector.matchLabels.version', obj: ap({ selector: { matchLabels: { version: 2 } } }) },
  { name: 'AP: label value too long', at: 'spec.selector.matchLabels.a', obj: ap({ selector: { matchLabels: { a: 'x'.repeat(64) } } }) },
  { name: 'AP: label key with spaces', at: 'spec.selector.matchLabels["my app"]', obj: ap({ selector: { matchLabels: { 'my app': 'x' } } }) },
  { name: 'AP: label key with empty prefix', at: 'spec.selector.matchLabels["/app"]', obj: ap({ selector: { matchLabels: { '/app': 'x' } } }) },
  { name: 'AP: rules not a list', at: 'spec.rules', obj: ap({ rules: { from: [] } }) },
  { name: 'AP: unknown rule field', at: 'spec.rules[0].form', obj: rule({ form: [] }) },
  { name: 'AP: from without source', at: 'spec.rules[0].from[0].source', obj: rule({ from: [{}] }) },
  { name: 'AP: empty source', at: 'spec.rules[0].from[0].source', obj: from({}) },
  { name: 'AP: requestPrincipals (JWT)', at: 'spec.rules[0].from[0].source.requestPrincipals', obj: from({ requestPrincipals: ['*'] }) },
  { name: 'AP: remoteIpBlocks', at: 'spec.rules[0].from[0].source.remoteIpBlocks', obj: from({ remoteIpBlocks: ['1.2.3.4'] }) },
  { name: 'AP: principal without sa', at: 'spec.rules[0].from[0].source.principals[0]', obj: from({ principals: ['cluster.local/ns/a'] }) },
  { name: 'AP: principal with a middle wildcard', at: 'spec.rules[0].from[0].source.principals[0]', obj: from({ principals: ['cluster.local/*/sa/b'] }) },
  { name: 'AP: principal with two wildcards', at: 'spec.rules[0].from[0].source.principals[0]', obj: from({ principals: ['*cluster*'] }) },
  { name: 'AP: empty principal', at: 'spec.rules[0].from[0].source.principals[0]', obj: from({ principals: [''] }) },
  { name: 'AP: principals empty list', at: 'spec.rules[0].from[0].source.principals', obj: from({ principals: [] }) },
  { name: 'AP: principals a string', at: 'spec.rules[0].from[0].source.principals', obj: from({ principals: 'cluster.local/ns/a/sa/b' }) },
  { name: 'AP: namespace upper case', at: 'spec.rules[0].from[0].source.namespaces[0]', obj: from({ namespaces: ['Shop'] }) },
  { name: 'AP: namespace too long', at: 'spec.rules[0].from[0].source.namespaces[0]', obj: from({ namespaces: ['a'.repeat(64)] }) },
  { name: 'AP: ipBlock a name', at: 'spec.rules[0].from[0].source.ipBlocks[0]', obj: from({ ipBlocks: ['example.com'] }) },
  { name: 'AP: IPv4 octet over 255', at: 'spec.rules[0].from[0].source.ipBlocks[0]', obj: from({ ipBlocks: ['10.0.0.256'] }) },
  { name: 'AP: IPv4 prefix over 32', at: 'spec.rules[0].from[0].source.ipBlocks[0]', obj: from({ ipBlocks: ['10.0.0.0/33'] }) },
  { name: 'AP: IPv6 that is not one', at: 'spec.rules[0].from[0].source.ipBlocks[0]', obj: from({ ipBlocks: [':::1'] }), codeOnly: 'the schema checks IPv6 loosely (a full IPv6 pattern is unreadable); the controller parses it' },
  { name: 'AP: empty operation', at: 'spec.rules[0].to[0].operation', obj: to({}) },
  { name: 'AP: port 0', at: 'spec.rules[0].to[0].operation.ports[0]', obj: to({ ports: [0] }) },
  { name: 'AP: port 65536', at: 'spec.rules[0].to[0].operation.ports[0]', obj: to({ ports: ['65536'] }) },
  { name: 'AP: port a name', at: 'spec.rules[0].to[0].operation.ports[0]', obj: to({ ports: ['http'] }) },
  { name: 'AP: port of six digits', at: 'spec.rules[0].to[0].operation.ports[0]', obj: to({ ports: ['000080'] }) },
  { name: 'AP: port a fraction', at: 'spec.rules[0].to[0].operation.ports[0]', obj: to({ ports: [80.5] }) },
  { name: 'AP: method lower case', at: 'spec.rules[0].to[0].operation.methods[0]', obj: to({ methods: ['get'] }) },
  { name: 'AP: path without a slash', at: 'spec.rules[0].to[0].operation.paths[0]', obj: to({ paths: ['api'] }) },
  { name: 'AP: path with a middle wildcard', at: 'spec.rules[0].to[0].operation.paths[0]', obj: to({ paths: ['/a/*/b'] }) },
  { name: 'AP: path with whitespace', at: 'spec.rules[0].to[0].operation.paths[0]', obj: to({ paths: ['/a b'] }) },
  { name: 'AP: host with two wildcards', at: 'spec.rules[0].to[0].operation.hosts[0]', obj: to({ hosts: ['*.example.*'] }) },
  { name: 'AP: condition without key', at: 'spec.rules[0].when[0].key', obj: rule({ when: [{ values: ['a'] }] }) },
  { name: 'AP: condition without values', at: 'spec.rules[0].when[0]', obj: rule({ when: [{ key: 'source.ip' }] }) },
  { name: 'AP: condition on JWT claims', at: 'spec.rules[0].when[0].key', obj: rule({ when: [{ key: 'request.auth.claims[iss]', values: ['x'] }] }) },
  { name: 'AP: condition on an unknown key', at: 'spec.rules[0].when[0].key', obj: rule({ when: [{ key: 'source.user', values: ['x'] }] }) },
  { name: 'AP: condition with an empty value', at: 'spec.rules[0].when[0].values[0]', obj: rule({ when: [{ key: 'request.headers[x]', values: [''] }] }) },
  { name: 'AP: source.ip condition with a name', at: 'spec.rules[0].when[0].values[0]', obj: rule({ when: [{ key: 'source.ip', values: ['example.com'] }] }), codeOnly: 'how a condition value must look depends on its key' },
  { name: 'AP: destination.port condition out of range', at: 'spec.rules[0].when[0].values[0]', obj: rule({ when: [{ key: 'destination.port', values: ['70000'] }] }), codeOnly: 'how a condition value must look depends on its key' },
  { name: 'PA: DISABLE', at: 'spec.mtls.mode', obj: pa({ mtls: { mode: 'DISABLE' } }) },
  { name: 'PA: UNSET', at: 'spec.mtls.mode', obj: pa({ mtls: { mode: 'UNSET' } }) },
  { name: 'PA: mode lower case', at: 'spec.mtls.mode', obj: pa({ mtls: { mode: 'strict' } }) },
  { name: 'PA: mtls without mode', at: 'spec.mtls.mode', obj: pa({ mtls: {} }) },
  { name: 'PA: port modes without selector', at: 'spec', obj: pa({ portLevelMtls: { '8080': { mode: 'STRICT' } } }) },
  { name: 'PA: port key not a number', at: 'spec.portLevelMtls.http', obj: pa({ selector: { matchLabels: { a: 'b' } }, portLevelMtls: { http: { mode: 'STRICT' } } }) },
  { name: 'PA: port key 0', at: 'spec.portLevelMtls["0"]', obj: pa({ selector: { matchLabels: { a: 'b' } }, portLevelMtls: { '0': { mode: 'STRICT' } } }) },
  { name: 'PA: port mode missing', at: 'spec.portLevelMtls["80"].mode', obj: pa({ selector: { matchLabels: { a: 'b' } }, portLevelMtls: { '80': {} } }) },
  { name: 'PA: unknown field', at: 'spec.mode', obj: pa({ mode: 'STRICT' }) },
  { name: 'TP: no spec', at: 'spec', obj: { apiVersion: AMBIT_API_VERSION, kind: 'TrafficPolicy', metadata: meta } },
  { name: 'TP: no targetRefs', at: 'spec.targetRefs', obj: { ...tp({}), spec: { timeout: '1s' } } },
  { name: 'TP: target a Waypoint', at: 'spec.targetRefs[0].kind', obj: { ...tp({}), spec: { targetRefs: [{ kind: 'Waypoint', name: 'wp' }] } } },
  { name: 'TP: load balancer unknown', at: 'spec.loadBalancer.type', obj: tp({ loadBalancer: { type: 'Random' } }) },
  { name: 'TP: load balancer without type', at: 'spec.loadBalancer.type', obj: tp({ loadBalancer: {} }) },
  { name: 'TP: ConsistentHash without header', at: 'spec.loadBalancer', obj: tp({ loadBalancer: { type: 'ConsistentHash' } }) },
  { name: 'TP: consistentHash with RoundRobin', at: 'spec.loadBalancer', obj: tp({ loadBalancer: { type: 'RoundRobin', consistentHash: { header: 'x' } } }) },
  { name: 'TP: header with a space', at: 'spec.loadBalancer.consistentHash.header', obj: tp({ loadBalancer: { type: 'ConsistentHash', consistentHash: { header: 'x user' } } }) },
  { name: 'TP: maxConnections 0', at: 'spec.connectionPool.maxConnections', obj: tp({ connectionPool: { maxConnections: 0 } }) },
  { name: 'TP: connectTimeout zero', at: 'spec.connectionPool.connectTimeout', obj: tp({ connectionPool: { connectTimeout: '0s' } }) },
  { name: 'TP: connectTimeout without unit', at: 'spec.connectionPool.connectTimeout', obj: tp({ connectionPool: { connectTimeout: '5' } }) },
  { name: 'TP: duration in Go syntax', at: 'spec.timeout', obj: tp({ timeout: '1.5s' }) },
  { name: 'TP: maxEjectionPercent over 100', at: 'spec.outlierDetection.maxEjectionPercent', obj: tp({ outlierDetection: { maxEjectionPercent: 101 } }) },
  { name: 'TP: retries without attempts', at: 'spec.retries.attempts', obj: tp({ retries: { perTryTimeout: '1s' } }) },
  { name: 'TP: retryOn a string', at: 'spec.retries.retryOn', obj: tp({ retries: { attempts: 2, retryOn: '5xx,reset' } }) },
  { name: 'TP: retryOn unknown', at: 'spec.retries.retryOn[0]', obj: tp({ retries: { attempts: 2, retryOn: ['sometimes'] } }) },
  { name: 'TP: retryOn status 600', at: 'spec.retries.retryOn[0]', obj: tp({ retries: { attempts: 2, retryOn: ['600'] } }) },
  { name: 'TP: empty fault', at: 'spec.fault', obj: tp({ fault: {} }) },
  { name: 'TP: abort status 100', at: 'spec.fault.abort.httpStatus', obj: tp({ fault: { abort: { httpStatus: 100 } } }) },
  { name: 'TP: delay without fixedDelay', at: 'spec.fault.delay.fixedDelay', obj: tp({ fault: { delay: { percentage: 5 } } }) },
  { name: 'TP: rate limit without fillInterval', at: 'spec.localRateLimit.fillInterval', obj: tp({ localRateLimit: { maxTokens: 10 } }) },
  { name: 'TP: rate limit 0 tokens', at: 'spec.localRateLimit.maxTokens', obj: tp({ localRateLimit: { maxTokens: 0, fillInterval: '1s' } }) },
];

describe('CRD schemas', () => {
  it('the chart has a CRD for every ambit.dev kind, with a status subresource and printer columns', () => {
    const crds = loadCrds();
    assert.deepEqual(crds.map((c) => c.crd.spec.names.kind).sort(), [...AMBIT_KINDS].sort());
    for (const { file, crd } of crds) {
      assert.equal(file, `${crd.spec.names.plural}.${crd.spec.group}.yaml`);
      assert.equal((crd.metadata as Obj).name, `${crd.spec.names.plural}.${crd.spec.group}`);
      const [version, ...more] = crd.spec.versions as unknown as Obj[];
      assert.equal(more.length, 0, `${file}: one version`);
      assert.equal(`${crd.spec.group}/${String(version!.name)}`, AMBIT_API_VERSION);
      assert.deepEqual((version!.subresources as Obj).status, {}, `${file}: status subresource`);
      assert.ok(Array.isArray(version!.additionalPrinterColumns) && version!.additionalPrinterColumns.length >= 2, `${file}: printer columns`);
    }
  });

  const shipped = shippedSamples();
  it('finds the shipped samples', () => {
    assert.ok(shipped.length >= 5, `found ${shipped.map((s) => s.where).join('; ')}`);
    for (const kind of ['Waypoint', 'AuthorizationPolicy', 'TrafficPolicy']) assert.ok(shipped.some((s) => s.obj.kind === kind), `a shipped ${kind}`);
  });

  it('accept every ambit.dev object in docs/, examples/, bench/ and the test fixtures', () => {
    for (const { where, obj } of shipped) assert.deepEqual(validateResource(obj), [], where);
  });

  it('accept every field at its edges', () => {
    for (const [name, obj] of VALID) assert.deepEqual(validateResource(obj), [], name);
  });

  it('reject malformed objects at the field that is wrong, in the schema unless only code can tell', () => {
    const wrong: string[] = [];
    for (const { name, at, obj, codeOnly } of INVALID) {
      const paths = validateResource(obj).map((e) => e.path);
      if (paths.length !== 1 || paths[0] !== at) wrong.push(`${name}: errors at ${JSON.stringify(paths)}, expected at ${at}`);
      const schema = crdSchemaErrors(obj) ?? [];
      if (codeOnly ? schema.length > 0 : schema.length === 0) {
        wrong.push(`${name}: the schema ${codeOnly ? `rejects it (${schema.map((e) => e.message).join('; ')}), so the check in code (${codeOnly}) is a twin of it` : 'accepts it'}`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});
