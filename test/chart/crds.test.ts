import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { AMBIT_API_VERSION, CRD_KINDS, validateResource } from '../../lib/crds/index.js';
import { crdValidators, loadCrds, schemaErrors, CEL_TWINS } from './crd-schema.js';
import { repoRoot } from './helm.js';

/**
 * The CRD schemas in charts/ambit/crds against the TypeScript validators in
 * lib/crds (today's truth): every ambit.dev object the project ships or
 * documents passes both, and malformed ones fail both. What only the
 * controller can check (it needs the object's namespace, or a value's grammar
 * depends on another field) is listed below with the reason, and the schema
 * is held to accepting exactly those.
 */

type Obj = Record<string, unknown>;
const validators = crdValidators();
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
 * Malformed objects. `codeOnly` marks what the schema cannot reject (it accepts them) and
 * the controller does, with why; everything else both reject.
 */
const INVALID: { name: string; obj: Obj; codeOnly?: string }[] = [
  { name: 'Waypoint: for unknown', obj: wp({ for: 'services' }) },
  { name: 'Waypoint: replicas over 100', obj: wp({ replicas: 101 }) },
  { name: 'Waypoint: replicas negative', obj: wp({ replicas: -1 }) },
  { name: 'Waypoint: replicas as a string', obj: wp({ replicas: '2' }) },
  { name: 'Waypoint: unknown field', obj: wp({ replica: 2 }) },
  { name: 'Waypoint: spec a list', obj: wp([]) },
  { name: 'AP: action lower case', obj: ap({ action: 'allow' }) },
  { name: 'AP: CUSTOM action', obj: ap({ action: 'CUSTOM' }) },
  { name: 'AP: provider (CUSTOM authz)', obj: ap({ provider: { name: 'x' } }) },
  { name: 'AP: targetRef (singular)', obj: ap({ targetRef: { kind: 'Service', name: 'web' } }) },
  { name: 'AP: targetRefs and selector', obj: ap({ targetRefs: [{ kind: 'Service', name: 'web' }], selector: { matchLabels: { a: 'b' } } }) },
  { name: 'AP: targetRefs empty', obj: ap({ targetRefs: [] }) },
  { name: 'AP: target kind Pod', obj: ap({ targetRefs: [{ kind: 'Pod', name: 'web' }] }) },
  { name: 'AP: target without name', obj: ap({ targetRefs: [{ kind: 'Service' }] }) },
  { name: 'AP: target name not DNS', obj: ap({ targetRefs: [{ kind: 'Service', name: 'Web_1' }] }) },
  { name: 'AP: Service target in ambit.dev', obj: ap({ targetRefs: [{ group: 'ambit.dev', kind: 'Service', name: 'web' }] }) },
  { name: 'AP: Waypoint target in core', obj: ap({ targetRefs: [{ group: '', kind: 'Waypoint', name: 'wp' }] }) },
  { name: 'AP: the same target twice', obj: ap({ targetRefs: [{ kind: 'Service', name: 'web' }, { kind: 'Service', name: 'web' }] }) },
  { name: 'AP: target in another namespace', obj: ap({ targetRefs: [{ kind: 'Service', name: 'web', namespace: 'other' }] }), codeOnly: "a schema cannot compare a field with the object's own namespace" },
  { name: 'AP: selector with matchExpressions', obj: ap({ selector: { matchExpressions: [] } }) },
  { name: 'AP: selector with empty matchLabels', obj: ap({ selector: { matchLabels: {} } }) },
  { name: 'AP: label value a number', obj: ap({ selector: { matchLabels: { version: 2 } } }) },
  { name: 'AP: label value too long', obj: ap({ selector: { matchLabels: { a: 'x'.repeat(64) } } }) },
  { name: 'AP: label key with spaces', obj: ap({ selector: { matchLabels: { 'my app': 'x' } } }) },
  { name: 'AP: label key with empty prefix', obj: ap({ selector: { matchLabels: { '/app': 'x' } } }) },
  { name: 'AP: rules not a list', obj: ap({ rules: { from: [] } }) },
  { name: 'AP: unknown rule field', obj: rule({ form: [] }) },
  { name: 'AP: from without source', obj: rule({ from: [{}] }) },
  { name: 'AP: empty source', obj: from({}) },
  { name: 'AP: requestPrincipals (JWT)', obj: from({ requestPrincipals: ['*'] }) },
  { name: 'AP: remoteIpBlocks', obj: from({ remoteIpBlocks: ['1.2.3.4'] }) },
  { name: 'AP: principal without sa', obj: from({ principals: ['cluster.local/ns/a'] }) },
  { name: 'AP: principal with a middle wildcard', obj: from({ principals: ['cluster.local/*/sa/b'] }) },
  { name: 'AP: principal with two wildcards', obj: from({ principals: ['*cluster*'] }) },
  { name: 'AP: empty principal', obj: from({ principals: [''] }) },
  { name: 'AP: principals empty list', obj: from({ principals: [] }) },
  { name: 'AP: principals a string', obj: from({ principals: 'cluster.local/ns/a/sa/b' }) },
  { name: 'AP: namespace upper case', obj: from({ namespaces: ['Shop'] }) },
  { name: 'AP: namespace too long', obj: from({ namespaces: ['a'.repeat(64)] }) },
  { name: 'AP: ipBlock a name', obj: from({ ipBlocks: ['example.com'] }) },
  { name: 'AP: IPv4 octet over 255', obj: from({ ipBlocks: ['10.0.0.256'] }) },
  { name: 'AP: IPv4 prefix over 32', obj: from({ ipBlocks: ['10.0.0.0/33'] }) },
  { name: 'AP: IPv6 that is not one', obj: from({ ipBlocks: [':::1'] }), codeOnly: 'the schema checks IPv6 loosely (a full IPv6 pattern is unreadable); the controller parses it' },
  { name: 'AP: empty operation', obj: to({}) },
  { name: 'AP: port 0', obj: to({ ports: [0] }) },
  { name: 'AP: port 65536', obj: to({ ports: ['65536'] }) },
  { name: 'AP: port a name', obj: to({ ports: ['http'] }) },
  { name: 'AP: port of six digits', obj: to({ ports: ['000080'] }) },
  { name: 'AP: port a fraction', obj: to({ ports: [80.5] }) },
  { name: 'AP: method lower case', obj: to({ methods: ['get'] }) },
  { name: 'AP: path without a slash', obj: to({ paths: ['api'] }) },
  { name: 'AP: path with a middle wildcard', obj: to({ paths: ['/a/*/b'] }) },
  { name: 'AP: path with whitespace', obj: to({ paths: ['/a b'] }) },
  { name: 'AP: host with two wildcards', obj: to({ hosts: ['*.example.*'] }) },
  { name: 'AP: condition without key', obj: rule({ when: [{ values: ['a'] }] }) },
  { name: 'AP: condition without values', obj: rule({ when: [{ key: 'source.ip' }] }) },
  { name: 'AP: condition on JWT claims', obj: rule({ when: [{ key: 'request.auth.claims[iss]', values: ['x'] }] }) },
  { name: 'AP: condition on an unknown key', obj: rule({ when: [{ key: 'source.user', values: ['x'] }] }) },
  { name: 'AP: condition with an empty value', obj: rule({ when: [{ key: 'request.headers[x]', values: [''] }] }) },
  { name: 'AP: source.ip condition with a name', obj: rule({ when: [{ key: 'source.ip', values: ['example.com'] }] }), codeOnly: 'how a condition value must look depends on its key' },
  { name: 'AP: destination.port condition out of range', obj: rule({ when: [{ key: 'destination.port', values: ['70000'] }] }), codeOnly: 'how a condition value must look depends on its key' },
  { name: 'PA: DISABLE', obj: pa({ mtls: { mode: 'DISABLE' } }) },
  { name: 'PA: UNSET', obj: pa({ mtls: { mode: 'UNSET' } }) },
  { name: 'PA: mode lower case', obj: pa({ mtls: { mode: 'strict' } }) },
  { name: 'PA: mtls without mode', obj: pa({ mtls: {} }) },
  { name: 'PA: port modes without selector', obj: pa({ portLevelMtls: { '8080': { mode: 'STRICT' } } }) },
  { name: 'PA: port key not a number', obj: pa({ selector: { matchLabels: { a: 'b' } }, portLevelMtls: { http: { mode: 'STRICT' } } }) },
  { name: 'PA: port key 0', obj: pa({ selector: { matchLabels: { a: 'b' } }, portLevelMtls: { '0': { mode: 'STRICT' } } }) },
  { name: 'PA: port mode missing', obj: pa({ selector: { matchLabels: { a: 'b' } }, portLevelMtls: { '80': {} } }) },
  { name: 'PA: unknown field', obj: pa({ mode: 'STRICT' }) },
  { name: 'TP: no spec', obj: { apiVersion: AMBIT_API_VERSION, kind: 'TrafficPolicy', metadata: meta } },
  { name: 'TP: no targetRefs', obj: { ...tp({}), spec: { timeout: '1s' } } },
  { name: 'TP: target a Waypoint', obj: { ...tp({}), spec: { targetRefs: [{ kind: 'Waypoint', name: 'wp' }] } } },
  { name: 'TP: load balancer unknown', obj: tp({ loadBalancer: { type: 'Random' } }) },
  { name: 'TP: load balancer without type', obj: tp({ loadBalancer: {} }) },
  { name: 'TP: ConsistentHash without header', obj: tp({ loadBalancer: { type: 'ConsistentHash' } }) },
  { name: 'TP: consistentHash with RoundRobin', obj: tp({ loadBalancer: { type: 'RoundRobin', consistentHash: { header: 'x' } } }) },
  { name: 'TP: header with a space', obj: tp({ loadBalancer: { type: 'ConsistentHash', consistentHash: { header: 'x user' } } }) },
  { name: 'TP: maxConnections 0', obj: tp({ connectionPool: { maxConnections: 0 } }) },
  { name: 'TP: connectTimeout zero', obj: tp({ connectionPool: { connectTimeout: '0s' } }) },
  { name: 'TP: connectTimeout without unit', obj: tp({ connectionPool: { connectTimeout: '5' } }) },
  { name: 'TP: duration in Go syntax', obj: tp({ timeout: '1.5s' }) },
  { name: 'TP: maxEjectionPercent over 100', obj: tp({ outlierDetection: { maxEjectionPercent: 101 } }) },
  { name: 'TP: retries without attempts', obj: tp({ retries: { perTryTimeout: '1s' } }) },
  { name: 'TP: retryOn a string', obj: tp({ retries: { attempts: 2, retryOn: '5xx,reset' } }) },
  { name: 'TP: retryOn unknown', obj: tp({ retries: { attempts: 2, retryOn: ['sometimes'] } }) },
  { name: 'TP: retryOn status 600', obj: tp({ retries: { attempts: 2, retryOn: ['600'] } }) },
  { name: 'TP: empty fault', obj: tp({ fault: {} }) },
  { name: 'TP: abort status 100', obj: tp({ fault: { abort: { httpStatus: 100 } } }) },
  { name: 'TP: delay without fixedDelay', obj: tp({ fault: { delay: { percentage: 5 } } }) },
  { name: 'TP: rate limit without fillInterval', obj: tp({ localRateLimit: { maxTokens: 10 } }) },
  { name: 'TP: rate limit 0 tokens', obj: tp({ localRateLimit: { maxTokens: 0, fillInterval: '1s' } }) },
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

  it('every CEL rule has a twin, and every twin a rule', () => {
    const rules = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'x-kubernetes-validations') for (const r of x as { rule: string }[]) rules.add(r.rule);
          else walk(x);
        }
      }
    };
    loadCrds().forEach((c) => walk(c.crd));
    assert.deepEqual([...rules].sort(), Object.keys(CEL_TWINS).sort());
  });

  const shipped = shippedSamples();
  it('finds the shipped samples', () => {
    assert.ok(shipped.length >= 5, `found ${shipped.map((s) => s.where).join('; ')}`);
    for (const kind of ['Waypoint', 'AuthorizationPolicy', 'TrafficPolicy']) assert.ok(shipped.some((s) => s.obj.kind === kind), `a shipped ${kind}`);
  });

  it('accept every ambit.dev object in docs/, examples/, bench/ and the test fixtures, as the validators do', () => {
    for (const { where, obj } of shipped) {
      assert.deepEqual(validateResource(obj), [], `${where}: the TypeScript validator`);
      assert.deepEqual(schemaErrors(validators, obj), [], `${where}: the CRD schema`);
    }
  });

  it('accept every field at its edges, as the validators do', () => {
    for (const [name, obj] of VALID) {
      assert.deepEqual(validateResource(obj), [], `${name}: the TypeScript validator`);
      assert.deepEqual(schemaErrors(validators, obj), [], `${name}: the CRD schema`);
    }
  });

  it('reject what the validators reject, except the checks only the controller can make', () => {
    const disagreements: string[] = [];
    for (const { name, obj, codeOnly } of INVALID) {
      const code = validateResource(obj);
      const schema = schemaErrors(validators, obj);
      assert.ok(schema !== undefined, `${name}: no schema for ${String(obj.kind)}`);
      if (code.length === 0) disagreements.push(`${name}: the TypeScript validator accepts it`);
      if (codeOnly ? schema.length > 0 : schema.length === 0) {
        disagreements.push(`${name}: the schema ${codeOnly ? `rejects it (${schema.join('; ')}), so it is no longer code-only (${codeOnly})` : 'accepts it'}`);
      }
    }
    assert.deepEqual(disagreements, []);
  });
});
