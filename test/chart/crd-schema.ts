import { Ajv, type ValidateFunction } from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { chartDir } from './helm.js';

/**
 * The chart's CRD schemas as an API server would apply them, for ajv: the
 * openAPIV3Schema read as JSON schema, plus
 * - strict field validation (kubectl's default since 1.27): every object that
 *   lists its properties rejects others, unless it preserves unknown fields;
 * - the CEL rules (x-kubernetes-validations), each through a JavaScript twin
 *   written here. No CEL engine runs in Node, so a rule without a twin fails
 *   the compile: whoever adds a rule to a CRD adds its twin and a sample.
 * Other x-kubernetes-* keywords change nothing about what is accepted.
 */

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

const QUALIFIED_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Each CEL rule in the CRDs, by its exact text, and what it says in JavaScript. */
export const CEL_TWINS: Readonly<Record<string, (self: any) => boolean>> = {
  '!(has(self.targetRefs) && has(self.selector))': (s) => !(s.targetRefs !== undefined && s.selector !== undefined),
  'self.all(a, self.exists_one(b, b.kind == a.kind && b.name == a.name))': (s: Rec[]) => s.every((a) => s.filter((b) => b.kind === a.kind && b.name === a.name).length === 1),
  "!has(self.group) || (self.kind == 'Service' ? self.group in ['', 'core'] : self.group == 'ambit.dev')": (s) =>
    s.group === undefined || (s.kind === 'Service' ? ['', 'core'].includes(s.group) : s.group === 'ambit.dev'),
  "self.all(k, k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$') && k.size() <= 317)": (s: Rec) =>
    Object.keys(s).every((k) => QUALIFIED_KEY.test(k) && k.length <= 317),
  '!has(self.portLevelMtls) || has(self.selector)': (s) => s.portLevelMtls === undefined || s.selector !== undefined,
  "self.all(k, k.matches('^[0-9]{1,5}$') && int(k) >= 1 && int(k) <= 65535)": (s: Rec) => Object.keys(s).every((k) => /^[0-9]{1,5}$/.test(k) && Number(k) >= 1 && Number(k) <= 65535),
  "self.type == 'ConsistentHash' ? has(self.consistentHash) : !has(self.consistentHash)": (s) => (s.type === 'ConsistentHash' ? s.consistentHash !== undefined : s.consistentHash === undefined),
};

export interface CrdFile {
  file: string;
  crd: Rec & { spec: { group: string; names: { kind: string; plural: string }; versions: { name: string; schema: { openAPIV3Schema: Rec } }[] } };
}

export function loadCrds(): CrdFile[] {
  const dir = join(chartDir, 'crds');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({ file: f, crd: parse(readFileSync(join(dir, f), 'utf8')) as CrdFile['crd'] }));
}

/** The schema with strict field validation made explicit. */
function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!isRec(schema)) return schema;
  const out: Rec = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'x-kubernetes-validations' || k === 'enum' ? v : strict(v);
  if (isRec(schema.properties) && schema['x-kubernetes-preserve-unknown-fields'] !== true && schema.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

export function crdAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, formats: { 'date-time': true, int64: true } });
  for (const keyword of ['x-kubernetes-int-or-string', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource']) ajv.addKeyword({ keyword });
  ajv.addKeyword({
    keyword: 'x-kubernetes-validations',
    compile: (rules: { rule: string; message?: string }[]) => {
      const twins = rules.map((r) => {
        const twin = CEL_TWINS[r.rule];
        if (!twin) throw new Error(`CEL rule without a JavaScript twin in test/chart/crd-schema.ts: ${r.rule}`);
        return { twin, message: r.message ?? r.rule };
      });
      const validate = (data: unknown): boolean => {
        const failed = twins.filter((t) => !t.twin(data));
        (validate as unknown as { errors: unknown[] }).errors = failed.map((t) => ({ keyword: 'x-kubernetes-validations', message: t.message, params: {} }));
        return failed.length === 0;
      };
      return validate;
    },
    errors: true,
  });
  return ajv;
}

/** One validator per `apiVersion` + kind the chart defines. */
export function crdValidators(): Map<string, ValidateFunction> {
  const ajv = crdAjv();
  const out = new Map<string, ValidateFunction>();
  for (const { crd } of loadCrds()) {
    for (const v of crd.spec.versions) out.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(strict(v.schema.openAPIV3Schema) as Rec));
  }
  return out;
}

/** Errors of an object against its CRD schema, as `path: message` lines; undefined when its kind has no CRD here. */
export function schemaErrors(validators: Map<string, ValidateFunction>, obj: { apiVersion?: unknown; kind?: unknown }): string[] | undefined {
  const validate = validators.get(`${String(obj.apiVersion)}/${String(obj.kind)}`);
  if (!validate) return undefined;
  if (validate(obj)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? e.keyword}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
}
