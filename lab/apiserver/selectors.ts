import { ApiError } from './status.js';

/**
 * Label and field selectors with the grammar and matching rules of
 * k8s.io/apimachinery `labels.Parse` and `fields.ParseSelector`, so a
 * selector that works against a real cluster works against the lab and an
 * invalid one fails the same way (400 BadRequest).
 */

export type LabelOp = 'in' | 'notin' | 'exists' | 'notexists' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly op: LabelOp;
  readonly values: readonly string[];
}

export interface LabelSelector {
  readonly requirements: readonly LabelRequirement[];
  /** An empty selector matches everything, as in Kubernetes. */
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
}

export interface FieldRequirement {
  /** A dotted path into the object, e.g. `spec.nodeName`. */
  readonly path: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  matches(obj: unknown): boolean;
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// Characters that end a key or value token.
const DELIMS = new Set([' ', '\t', ',', '=', '!', '(', ')', '<', '>']);

function bad(kind: 'label' | 'field', input: string, why: string): ApiError {
  return new ApiError('BadRequest', `invalid ${kind} selector "${input}": ${why}`);
}

function checkKey(input: string, key: string): void {
  if (key === '') throw bad('label', input, 'a label key is empty');
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? '' : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (slash !== -1 && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    throw bad('label', input, `label key prefix "${prefix}" must be a lower-case DNS subdomain`);
  }
  if (name.length > 63 || !NAME.test(name)) {
    throw bad('label', input, `label key "${key}" must be at most 63 alphanumeric characters, '-', '_' or '.', starting and ending alphanumeric`);
  }
}

function checkValue(input: string, value: string): void {
  if (value !== '' && (value.length > 63 || !NAME.test(value))) {
    throw bad('label', input, `label value "${value}" must be empty or at most 63 alphanumeric characters, '-', '_' or '.', starting and ending alphanumeric`);
  }
}

/** A small cursor over the selector text; every loop advances it, so parsing is bounded by the input length. */
class Scanner {
  pos = 0;
  constructor(readonly text: string) {}
  skipSpace(): void {
    while (this.pos < this.text.length && (this.text[this.pos] === ' ' || this.text[this.pos] === '\t')) this.pos++;
  }
  done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(n = 1): string {
    return this.text.slice(this.pos, this.pos + n);
  }
  word(): string {
    const start = this.pos;
    while (this.pos < this.text.length && !DELIMS.has(this.text[this.pos]!)) this.pos++;
    return this.text.slice(start, this.pos);
  }
}

function parseSet(s: Scanner, input: string): string[] {
  s.skipSpace();
  if (s.peek() !== '(') throw bad('label', input, `expected '(' at position ${s.pos}`);
  s.pos++;
  const values: string[] = [];
  for (;;) {
    s.skipSpace();
    const v = s.word();
    checkValue(input, v);
    values.push(v);
    s.skipSpace();
    const c = s.peek();
    s.pos++;
    if (c === ')') {
      if (values.length === 1 && values[0] === '') throw bad('label', input, `the value set of 'in' or 'notin' is empty`);
      return values;
    }
    if (c !== ',') throw bad('label', input, `expected ',' or ')' in value set at position ${s.pos - 1}`);
  }
}

function parseRequirement(s: Scanner, input: string): LabelRequirement {
  s.skipSpace();
  if (s.peek() === '!') {
    s.pos++;
    s.skipSpace();
    const key = s.word();
    checkKey(input, key);
    return { key, op: 'notexists', values: [] };
  }
  const key = s.word();
  checkKey(input, key);
  s.skipSpace();
  if (s.done() || s.peek() === ',') return { key, op: 'exists', values: [] };
  const two = s.peek(2);
  if (two === '==' || two === '!=' || s.peek() === '=') {
    s.pos += two === '==' || two === '!=' ? 2 : 1;
    s.skipSpace();
    const value = s.word();
    checkValue(input, value);
    return { key, op: two === '!=' ? 'notin' : 'in', values: [value] };
  }
  if (s.peek() === '>' || s.peek() === '<') {
    const op = s.peek() === '>' ? 'gt' : 'lt';
    s.pos++;
    s.skipSpace();
    const value = s.word();
    if (!/^-?\d+$/.test(value)) throw bad('label', input, `'${op === 'gt' ? '>' : '<'}' needs an integer value, got "${value}"`);
    return { key, op, values: [value] };
  }
  const word = s.word();
  if (word === 'in' || word === 'notin') return { key, op: word, values: parseSet(s, input) };
  throw bad('label', input, `expected an operator (=, ==, !=, in, notin) after "${key}" at position ${s.pos - word.length}`);
}

function matchOne(r: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels[r.key]! : undefined;
  switch (r.op) {
    case 'exists':
      return has;
    case 'notexists':
      return !has;
    case 'in':
      return has && r.values.includes(v!);
    case 'notin':
      return !has || !r.values.includes(v!);
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(v!)) return false;
      const n = Number(v);
      const bound = Number(r.values[0]);
      return r.op === 'gt' ? n > bound : n < bound;
    }
  }
}

function labelSelector(requirements: LabelRequirement[]): LabelSelector {
  return Object.freeze({
    requirements: Object.freeze(requirements),
    matches: (labels: Readonly<Record<string, string>> | undefined) => requirements.every((r) => matchOne(r, labels ?? {})),
  });
}

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h` (comma means AND). Throws a 400 ApiError if invalid. */
export function parseLabelSelector(input: string | undefined): LabelSelector {
  const requirements: LabelRequirement[] = [];
  const s = new Scanner(input ?? '');
  s.skipSpace();
  if (s.done()) return labelSelector(requirements);
  for (;;) {
    requirements.push(parseRequirement(s, s.text));
    s.skipSpace();
    if (s.done()) break;
    if (s.peek() !== ',') throw bad('label', s.text, `unexpected '${s.peek()}' at position ${s.pos}`);
    s.pos++;
  }
  return labelSelector(requirements);
}

/**
 * Converts a `metav1.LabelSelector` object (`matchLabels` + `matchExpressions`,
 * as in Deployment and NetworkPolicy specs) into a matcher. A missing selector
 * matches nothing, an empty one everything, as in Kubernetes.
 */
export function labelSelectorFromObject(sel: unknown): LabelSelector {
  if (sel === undefined || sel === null) return Object.freeze({ requirements: Object.freeze([]), matches: () => false });
  const s = sel as { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
  const reqs: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(s.matchLabels ?? {})) reqs.push({ key, op: 'in', values: [String(value)] });
  for (const e of s.matchExpressions ?? []) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: 'notexists' } as const)[e.operator as 'In'];
    if (!op) throw new ApiError('BadRequest', `invalid label selector: unknown operator "${e.operator}" for key "${e.key}"`);
    reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  return labelSelector(reqs);
}

/** Splits on separators not escaped with a backslash, then unescapes `\,` `\=` `\\`. */
function splitUnescaped(text: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      cur += c + text[i + 1];
      i++;
    } else if (c === sep) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function unescape(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}

/** The value at a dotted path, as the string a field selector compares; missing is ''. */
export function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return '';
  if (typeof cur === 'object') return JSON.stringify(cur);
  return String(cur);
}

/** Parses `metadata.name=x,spec.nodeName!=y` (`=`, `==`, `!=`; comma means AND). Throws a 400 ApiError if invalid. */
export function parseFieldSelector(input: string | undefined): FieldSelector {
  const text = (input ?? '').trim();
  const requirements: FieldRequirement[] = [];
  if (text !== '') {
    for (const raw of splitUnescaped(text, ',')) {
      const term = raw.trim();
      // Same operator precedence as fields.ParseSelector: '!=' first, then '==', then '='.
      let op: FieldRequirement['op'] | undefined;
      let at = -1;
      let width = 0;
      for (const [o, w, norm] of [['!=', 2, '!='], ['==', 2, '='], ['=', 1, '=']] as const) {
        at = term.indexOf(o);
        if (at !== -1) {
          op = norm;
          width = w;
          break;
        }
      }
      if (op === undefined) throw bad('field', text, `"${term}" has no operator (=, ==, !=)`);
      const path = term.slice(0, at).trim();
      if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(path)) throw bad('field', text, `"${path}" is not a dotted field path`);
      requirements.push({ path, op, value: unescape(term.slice(at + width).trim()) });
    }
  }
  Object.freeze(requirements);
  return Object.freeze({
    requirements,
    matches: (obj: unknown) => requirements.every((r) => (fieldValue(obj, r.path) === r.value) === (r.op === '=')),
  });
}
