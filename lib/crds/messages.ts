import { closestName, describeValue } from './describe.js';

/**
 * The wording of field errors, shared by the hand-written checks (`Fields`)
 * and the CRD schema's errors (`schema-errors.ts`), so a problem reads the
 * same whichever found it.
 */

/** The kinds of value a field can want, as the schema's `type` names them. */
export type ValueType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

const WANTED: Readonly<Record<ValueType, string>> = {
  object: 'a mapping of fields',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
};

/** YAML turns unquoted 8080, true, yes/no (1.1 habits) into non-strings. */
export function quoteHint(v: unknown): string {
  return typeof v === 'number' || typeof v === 'boolean' ? `; quote it if it is meant as text: "${String(v)}"` : '';
}

/**
 * `must be an integer (got "2"; remove the quotes)`: what was wanted, what was
 * got, and how to fix a YAML habit. A number or boolean where only a string
 * will do gets the quoting hint, unless `quoted` says the quoted text would be
 * refused too.
 */
export function typeMessage(wanted: readonly ValueType[], got: unknown, quoted = true): string {
  let hint = '';
  if (wanted.length === 1 && wanted[0] === 'string') hint = quoted ? quoteHint(got) : '';
  else if ((wanted.includes('integer') || wanted.includes('number')) && typeof got === 'string' && /^-?\d+$/.test(got)) hint = '; remove the quotes';
  const names = wanted.map((t) => WANTED[t]);
  const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : (names[0] ?? 'something else');
  return `must be ${list} (got ${describeValue(got)}${hint})`;
}

/** `must be one of A, B (got "a"; did you mean "A"?)`; `hint` goes after what was got. */
export function enumMessage(allowed: readonly string[], got: unknown, hint = ''): string {
  const near = typeof got === 'string' ? closestName(got, allowed) : undefined;
  return `must be one of ${allowed.join(', ')} (got ${describeValue(got)}${near ? `; did you mean "${near}"?` : ''}${hint})`;
}

export function rangeMessage(min: number | undefined, max: number | undefined, got: number): string {
  const range = min !== undefined && max !== undefined ? `between ${min} and ${max}` : min !== undefined ? `at least ${min}` : `at most ${max}`;
  return `must be ${range} (got ${got})`;
}

export function unknownFieldMessage(key: string, known: readonly string[]): string {
  const near = closestName(key, known);
  return near ? `unknown field; did you mean "${near}"?` : `unknown field (known fields: ${known.join(', ')})`;
}
