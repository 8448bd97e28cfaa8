import type { ErrorObject } from 'ajv';
import { describeValue } from './describe.js';
import { formatPath, type PathSegment } from './field-path.js';
import type { FieldError } from './fields.js';
import { enumMessage, quoteHint, rangeMessage, typeMessage, unknownFieldMessage, type ValueType } from './messages.js';

/**
 * ajv's errors against a CRD schema as field errors that read like the rest
 * of lib/crds: Kubernetes paths (`spec.rules[0].from[0].source.ipBlocks[1]`),
 * what was wanted and what was got, the near miss of an unknown field or an
 * enum value, and one message per `anyOf` instead of one per branch tried.
 *
 * A `pattern` (or an `anyOf` of types) is explained by its schema's
 * `description`, read as what the value must be: "A duration like "1s"" gives
 * `must be a duration like "1s" (got "5")`. So every such field in the CRDs
 * has a description written as a noun phrase (schema.test.ts holds them to it).
 */

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a hint sees of one error. */
export interface SchemaIssue {
  /** The schema keyword that failed (`additionalProperties` for an unknown field, `enum`, `type`, `pattern`, ...). */
  readonly keyword: string;
  /** The value at the error's path (for an unknown field, that field's value). */
  readonly value: unknown;
  /** The message the error gets without the hint. */
  readonly message: string;
}

/**
 * Extra knowledge about a field's errors that the schema cannot carry (an
 * Istio field Ambit does not support, a mode it rejects on purpose): returns
 * the message to use instead, or undefined to keep the default.
 */
export type Hint = (issue: SchemaIssue) => string | undefined;

/** Hints by field name: an error's last named path segment (for a list's item, the list's name). */
export type Hints = Readonly<Record<string, Hint>>;

/** A hint for an unknown field: the reason it is not in the schema. */
export const unknownFieldNote =
  (note: string): Hint =>
  (i) =>
    i.keyword === 'additionalProperties' ? note : undefined;

/** JSON pointer to path segments; the data decides whether `/0` is a list index or a map key. */
function segmentsOf(pointer: string, data: unknown): PathSegment[] {
  if (pointer === '') return [];
  const out: PathSegment[] = [];
  let at = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const seg: PathSegment = Array.isArray(at) && /^\d+$/.test(key) ? Number(key) : key;
    out.push(seg);
    at = valueAt(at, [seg]);
  }
  return out;
}

function valueAt(data: unknown, segments: readonly PathSegment[]): unknown {
  let at = data;
  for (const s of segments) {
    if (Array.isArray(at) && typeof s === 'number') at = at[s];
    else if (isRec(at) && typeof s === 'string' && Object.prototype.hasOwnProperty.call(at, s)) at = at[s];
    else return undefined;
  }
  return at;
}

/** A description as the object of "must be": "A port number." -> "a port number"; "HTTP ..." keeps its capitals. */
function asPhrase(description: string): string {
  const s = description.trim().replace(/\.$/, '');
  return /^[A-Z][a-z]/.test(s) || /^[A-Z] /.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s;
}

const TYPES = new Set<string>(['object', 'array', 'string', 'integer', 'number', 'boolean']);
const asTypes = (t: unknown): ValueType[] => (Array.isArray(t) ? t : [t]).filter((x): x is ValueType => typeof x === 'string' && TYPES.has(x));
const sizeOf = (v: unknown): number => (Array.isArray(v) || typeof v === 'string' ? v.length : isRec(v) ? Object.keys(v).length : 0);

/** `must be <what the description says> (got ...)`, or undefined when the schema has no description. */
function described(schema: Rec, value: unknown, hint = ''): string | undefined {
  return typeof schema.description === 'string' ? `must be ${asPhrase(schema.description)} (got ${describeValue(value)}${hint})` : undefined;
}

/**
 * A value of the wrong type, said in the terms of the field: its allowed
 * values or its description when it has them; the quoting hint only when the
 * quoted text would be accepted.
 */
function typeError(schema: Rec, value: unknown): string {
  const wanted = asTypes(schema.type);
  if (wanted.length !== 1 || wanted[0] !== 'string') return typeMessage(wanted, value);
  // What the value would be quoted: only numbers and booleans get the hint.
  const text = typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
  if (Array.isArray(schema.enum)) return enumMessage(schema.enum.map(String), value, schema.enum.includes(text) ? quoteHint(value) : '');
  const fits = text !== undefined && (typeof schema.pattern !== 'string' || new RegExp(schema.pattern, 'u').test(text));
  return (typeof schema.pattern === 'string' ? described(schema, value, fits ? quoteHint(value) : '') : undefined) ?? typeMessage(wanted, value, fits);
}

function message(e: ErrorObject, value: unknown): string {
  const schema = isRec(e.parentSchema) ? e.parentSchema : {};
  const limit = Number(e.params.limit);
  switch (e.keyword) {
    case 'additionalProperties':
      return unknownFieldMessage(String(e.params.additionalProperty), isRec(schema.properties) ? Object.keys(schema.properties) : []);
    case 'required':
      return 'required';
    case 'type':
      return typeError(schema, value);
    case 'enum':
      return enumMessage((e.params.allowedValues as unknown[]).map(String), value);
    case 'minimum':
    case 'maximum':
      return rangeMessage(schema.minimum as number | undefined, schema.maximum as number | undefined, value as number);
    case 'minLength':
    case 'minItems':
      return limit === 1 ? 'must not be empty' : `must have at least ${limit} ${e.keyword === 'minLength' ? 'characters' : 'items'}`;
    case 'maxLength':
      return `must have at most ${limit} characters (got ${sizeOf(value)})`;
    case 'maxItems':
      return `must have at most ${limit} items (got ${sizeOf(value)})`;
    case 'minProperties': {
      const fields = isRec(schema.properties) ? Object.keys(schema.properties) : [];
      if (limit === 1) return fields.length > 0 ? `must set at least one of ${fields.join(', ')}` : 'must not be empty';
      return `must have at least ${limit} entries`;
    }
    case 'maxProperties':
      return `must have at most ${limit} entries (got ${sizeOf(value)})`;
    case 'pattern':
      return described(schema, value) ?? `must match ${String(e.params.pattern)} (got ${describeValue(value)})`;
    case 'format':
      return `must be a ${String(e.params.format)} (got ${describeValue(value)})`;
    default:
      return e.message ?? `fails ${e.keyword}`;
  }
}

/**
 * One message for a failed `anyOf`/`oneOf`, from its branches: a choice of
 * types (`must be an integer or a string`) or of fields (`must set values or
 * notValues`); otherwise the errors of the branch that came closest, as the
 * likeliest intent: one whose own required fields are there, then the one
 * with the fewest errors.
 */
function collapse(group: ErrorObject, branchErrors: ErrorObject[], value: unknown): { message: string } | { errors: ErrorObject[] } {
  const branches = Array.isArray(group.schema) ? (group.schema as unknown[]).filter(isRec) : [];
  const only = (key: string): boolean => branches.length > 0 && branches.every((b) => Object.keys(b).length === 1 && b[key] !== undefined);
  const several = group.keyword === 'oneOf' && Array.isArray(group.params.passingSchemas);
  if (only('type')) return { message: described(isRec(group.parentSchema) ? group.parentSchema : {}, value) ?? typeMessage(branches.flatMap((b) => asTypes(b.type)), value) };
  if (only('required')) {
    const choices = branches.map((b) => (b.required as string[]).join(' and '));
    return { message: several ? `set only one of ${choices.join(', ')}` : `must set ${choices.join(' or ')}` };
  }
  if (several) return { message: 'matches more than one of the allowed forms; it must match exactly one' };
  const byBranch = new Map<string, ErrorObject[]>();
  for (const e of branchErrors) {
    const branch = e.schemaPath.slice(group.schemaPath.length + 1).split('/')[0]!;
    byBranch.set(branch, [...(byBranch.get(branch) ?? []), e]);
  }
  const distance = (errors: ErrorObject[]): number => 1000 * errors.filter((e) => e.keyword === 'required' && e.instancePath === group.instancePath).length + errors.length;
  const closest = [...byBranch.values()].sort((a, b) => distance(a) - distance(b))[0];
  return closest ? { errors: closest } : { message: 'must match one of the allowed forms' };
}

function within(e: ErrorObject, group: ErrorObject): boolean {
  return e !== group && e.schemaPath.startsWith(`${group.schemaPath}/`) && (e.instancePath === group.instancePath || e.instancePath.startsWith(`${group.instancePath}/`));
}

/** ajv's errors for `data` as field errors, with `hints` applied. */
export function schemaFieldErrors(errors: readonly ErrorObject[], data: unknown, hints: Hints = {}): FieldError[] {
  const groups = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const inGroup = (e: ErrorObject): boolean => groups.some((g) => within(e, g));
  // ajv checks an enum whatever the value's type; the type error already says what is allowed.
  const mistyped = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  const redundant = (e: ErrorObject): boolean => e.keyword === 'enum' && mistyped.has(e.instancePath);
  const out: FieldError[] = [];
  const seen = new Set<string>();
  const emit = (e: ErrorObject, fixed?: string): void => {
    const segments = segmentsOf(e.instancePath, data);
    const child = e.keyword === 'additionalProperties' ? e.params.additionalProperty : e.keyword === 'required' ? e.params.missingProperty : e.params.at;
    if (typeof child === 'string' || typeof child === 'number') segments.push(child);
    const value = valueAt(data, segments);
    const plain = fixed ?? message(e, value);
    const name = segments.filter((s): s is string => typeof s === 'string').pop();
    const hint = name !== undefined && Object.prototype.hasOwnProperty.call(hints, name) ? hints[name]!({ keyword: e.keyword, value, message: plain }) : undefined;
    const err = { path: formatPath(segments), message: hint ?? plain };
    const key = `${err.path}\n${err.message}`;
    if (!seen.has(key)) out.push(err);
    seen.add(key);
  };
  for (const e of errors) {
    if ((inGroup(e) && !groups.includes(e)) || redundant(e)) continue;
    if (groups.includes(e)) {
      if (groups.some((g) => within(e, g))) continue; // a group inside another is that one's branch
      const c = collapse(e, errors.filter((x) => within(x, e)), valueAt(data, segmentsOf(e.instancePath, data)));
      if ('message' in c) emit(e, c.message);
      else c.errors.forEach((x) => emit(x));
      continue;
    }
    emit(e);
  }
  return out;
}
