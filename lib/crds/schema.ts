import { Ajv, type AnySchemaObject } from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CEL_TWINS } from './cel-twins.js';
import { guarded, type FieldError, type Fields } from './fields.js';
import { schemaFieldErrors, type Hints } from './schema-errors.js';

/**
 * The chart's CRD schemas (charts/ambit/crds) are the one source of
 * structural validation for Ambit's kinds: the API server applies them at
 * admission, and the controller, `lab apply` and the tests apply the same
 * files here, with ajv, as an API server would:
 * - strict field validation (kubectl's default since 1.27): every object that
 *   lists its properties rejects others, unless it preserves unknown fields;
 * - null fields dropped first, as the API server prunes them;
 * - the CEL rules (x-kubernetes-validations) through their JavaScript twins
 *   (cel-twins.ts), each checked once the value at its place passes the rest
 *   of the schema there; a rule without a twin fails the compile.
 * Other x-kubernetes-* keywords change nothing about what is accepted.
 *
 * What a schema cannot say (a field compared with the object's namespace, a
 * value whose grammar depends on another field) each kind's validator checks
 * in code once the schema has accepted the object.
 */

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The CRDs' folder below the package root. The image copies it there too (Dockerfile), for the controller. */
export const CRD_DIR_IN_PACKAGE = 'charts/ambit/crds';
/** This file runs as dist/lib/crds/schema.js: three folders up is the package root. */
export const CRD_DIR = fileURLToPath(new URL(`../../../${CRD_DIR_IN_PACKAGE}`, import.meta.url));

export interface CrdFile {
  file: string;
  crd: Rec & { spec: { group: string; names: { kind: string; plural: string }; versions: { name: string; schema: { openAPIV3Schema: Rec } }[] } };
}

export function loadCrds(dir = CRD_DIR): CrdFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ file: f, crd: parse(readFileSync(join(dir, f), 'utf8')) as CrdFile['crd'] }));
}

/**
 * The schema with strict field validation made explicit: `additionalProperties:
 * false` wherever properties are listed. Not inside allOf/anyOf/oneOf/not: in
 * a structural schema those only add constraints to fields declared outside.
 */
function strict(schema: unknown): unknown {
  if (!isRec(schema)) return schema;
  const out: Rec = { ...schema };
  if (isRec(schema.properties)) out.properties = Object.fromEntries(Object.entries(schema.properties).map(([name, s]) => [name, strict(s)]));
  for (const k of ['items', 'additionalProperties']) if (isRec(schema[k])) out[k] = strict(schema[k]);
  if (isRec(schema.properties) && schema['x-kubernetes-preserve-unknown-fields'] !== true && schema.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

const VALIDATIONS = 'x-kubernetes-validations';

function crdAjv(): Ajv {
  // verbose: errors carry their schema and data, which the messages are made of.
  const self = new Ajv({ allErrors: true, verbose: true, strict: false, formats: { 'date-time': true, int64: true } });
  for (const keyword of ['x-kubernetes-int-or-string', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource']) self.addKeyword({ keyword });
  self.addKeyword({
    keyword: VALIDATIONS,
    errors: true,
    compile: (rules: { rule: string; message?: string }[], parentSchema: AnySchemaObject) => {
      const twins = rules.map((r) => {
        const twin = CEL_TWINS[r.rule];
        if (!twin) throw new Error(`CEL rule without a JavaScript twin in lib/crds/cel-twins.ts: ${r.rule}`);
        return { twin, message: r.message ?? r.rule };
      });
      const { [VALIDATIONS]: _rules, ...rest } = parentSchema;
      const wellFormed = self.compile(rest);
      const validate = (data: unknown): boolean => {
        if (!wellFormed(data)) return true; // the schema's own errors say what is wrong
        const errors = [];
        for (const t of twins) {
          const outcome = t.twin(data);
          if (outcome !== true) errors.push({ keyword: VALIDATIONS, message: t.message, params: outcome === false ? {} : { at: outcome.at } });
        }
        (validate as unknown as { errors: unknown[] }).errors = errors;
        return errors.length === 0;
      };
      return validate;
    },
  });
  return self;
}

/** A compiled CRD schema: the object as judged (see `judged`) and its errors. */
export type SchemaCheck = (obj: unknown, hints?: Hints) => { data: unknown; errors: FieldError[] };

let ajv: Ajv | undefined;

/** Compiles one openAPIV3Schema as an API server applies it. Throws on a CEL rule without a twin. */
export function compileCrdSchema(openAPIV3Schema: Rec): SchemaCheck {
  ajv ??= crdAjv();
  const validate = ajv.compile(strict(openAPIV3Schema) as Rec);
  return (obj, hints) => {
    const data = judged(obj);
    return { data, errors: validate(data) ? [] : schemaFieldErrors(validate.errors ?? [], data, hints) };
  };
}

let compiled: Map<string, SchemaCheck> | undefined;

/**
 * One check per `apiVersion/kind` the chart defines, compiled on first use.
 * Throws when the CRD files are missing or unusable: a broken install, which
 * the controller reports at start (startController) rather than on every
 * object.
 */
export function crdSchemas(): ReadonlyMap<string, SchemaCheck> {
  if (compiled) return compiled;
  let crds: CrdFile[];
  try {
    crds = loadCrds();
  } catch (err) {
    throw new Error(`cannot read the CRD schemas in ${CRD_DIR} (${err instanceof Error ? err.message : String(err)}); they ship with the package as ${CRD_DIR_IN_PACKAGE}`, { cause: err });
  }
  const out = new Map<string, SchemaCheck>();
  for (const { crd } of crds) {
    for (const v of crd.spec.versions) out.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, compileCrdSchema(v.schema.openAPIV3Schema));
  }
  compiled = out;
  return out;
}

/**
 * The object as the schema judges it: null (and undefined) fields dropped, as
 * the API server prunes them, and the status left out, which is the
 * controller's output and not what a validator judges. Copies are
 * prototype-free, so keys like `__proto__` or `constructor` are plain keys;
 * the walk keeps no call stack, so any depth of nesting is safe.
 */
function judged(obj: unknown): unknown {
  const copies = new Map<object, unknown>();
  const pending: [object, Rec | unknown[]][] = [];
  const copy = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    const known = copies.get(v);
    if (known !== undefined) return known;
    const out: Rec | unknown[] = Array.isArray(v) ? new Array<unknown>(v.length) : (Object.create(null) as Rec);
    copies.set(v, out);
    pending.push([v, out]);
    return out;
  };
  const root = copy(obj);
  while (pending.length > 0) {
    const [src, dst] = pending.pop()!;
    if (Array.isArray(src)) src.forEach((item, i) => ((dst as unknown[])[i] = copy(item)));
    else {
      for (const [k, v] of Object.entries(src)) {
        if (v === null || v === undefined || (src === obj && k === 'status')) continue;
        Object.defineProperty(dst, k, { value: copy(v), enumerable: true, writable: true, configurable: true });
      }
    }
  }
  return root;
}

/** The schema's errors alone for an object of a kind the chart defines; undefined for other kinds. */
export function crdSchemaErrors(obj: { apiVersion?: unknown; kind?: unknown; [field: string]: unknown }): FieldError[] | undefined {
  const check = crdSchemas().get(`${String(obj.apiVersion)}/${String(obj.kind)}`);
  return check?.(obj).errors;
}

export interface CustomResourceChecks<T> {
  /** Knowledge about some fields' errors the schema cannot carry. */
  readonly hints?: Hints;
  /** Checks no schema can express, run on an object the schema accepted (and so typed as `T`). */
  readonly semantic?: (obj: T, f: Fields) => void;
}

/**
 * Validates an object as a `kind` of `apiVersion` (whatever its own fields
 * say): the CRD schema's errors, or when there are none, the kind's semantic
 * checks. Never throws.
 */
export function validateCustomResource<T>(apiVersion: string, kind: string, obj: unknown, checks: CustomResourceChecks<T> = {}): FieldError[] {
  return guarded('', (f) => {
    const check = crdSchemas().get(`${apiVersion}/${kind}`);
    if (!check) throw new Error(`no CRD for ${apiVersion} ${kind} in ${CRD_DIR}`);
    const { data, errors } = check(obj, checks.hints);
    f.errors.push(...errors);
    if (errors.length === 0) checks.semantic?.(data as T, f);
  });
}
