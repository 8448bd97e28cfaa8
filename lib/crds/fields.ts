import { describeValue } from './describe.js';
import { parseDuration } from './duration.js';
import { childPath, itemPath } from './field-path.js';
import { enumMessage, quoteHint, rangeMessage, typeMessage, unknownFieldMessage } from './messages.js';

/**
 * A small toolkit for validating untrusted, already-parsed documents (YAML or
 * JSON turned into plain values). Every check takes the raw value and its
 * path, records a field error when the value is wrong, and returns the value
 * narrowed to its type, or undefined when it is absent or wrong; callers then
 * carry on with whatever is usable, so one pass reports every problem and no
 * input can make a check throw.
 */

export interface FieldError {
  /** Where the problem is, e.g. `spec.rules[0].from[0].source.ipBlocks[1]`. */
  readonly path: string;
  readonly message: string;
}

/** Returns why a string is unacceptable, or undefined when it is fine. */
export type StringCheck = (s: string) => string | undefined;

export interface Presence {
  required?: boolean;
}

export type Rec = Record<string, unknown>;

export function isRecord(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own properties only, so keys like `constructor` or `__proto__` never reach the prototype. */
export function field(rec: Rec, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(rec, key) ? rec[key] : undefined;
}

export class Fields {
  readonly errors: FieldError[] = [];

  add(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  get ok(): boolean {
    return this.errors.length === 0;
  }

  private missing(v: unknown, path: string, required: boolean | undefined): boolean {
    if (v !== undefined && v !== null) return false;
    if (required) this.add(path, 'required');
    return true;
  }

  record(v: unknown, path: string, opts: Presence = {}): Rec | undefined {
    if (this.missing(v, path, opts.required)) return undefined;
    if (!isRecord(v)) {
      this.add(path, typeMessage(['object'], v));
      return undefined;
    }
    return v;
  }

  list(v: unknown, path: string, opts: Presence & { nonEmpty?: boolean } = {}): unknown[] | undefined {
    if (this.missing(v, path, opts.required)) return undefined;
    if (!Array.isArray(v)) {
      this.add(path, typeMessage(['array'], v));
      return undefined;
    }
    if (opts.nonEmpty && v.length === 0) this.add(path, 'must not be empty');
    return v;
  }

  /** A list whose items are mappings; `fn` sees each usable item. */
  records(v: unknown, path: string, fn: (item: Rec, itemPath: string, index: number) => void, opts: Presence & { nonEmpty?: boolean } = {}): void {
    const items = this.list(v, path, opts);
    items?.forEach((item, i) => {
      if (!isRecord(item)) {
        this.add(itemPath(path, i), typeMessage(['object'], item));
        return;
      }
      fn(item, itemPath(path, i), i);
    });
  }

  string(v: unknown, path: string, opts: Presence & { nonEmpty?: boolean; check?: StringCheck } = {}): string | undefined {
    if (this.missing(v, path, opts.required)) return undefined;
    if (typeof v !== 'string') {
      this.add(path, typeMessage(['string'], v));
      return undefined;
    }
    if ((opts.nonEmpty || opts.required) && v === '') {
      this.add(path, 'must not be empty');
      return undefined;
    }
    const problem = opts.check?.(v);
    if (problem) {
      this.add(path, problem);
      return undefined;
    }
    return v;
  }

  int(v: unknown, path: string, opts: Presence & { min?: number; max?: number } = {}): number | undefined {
    if (this.missing(v, path, opts.required)) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.add(path, typeMessage(['integer'], v));
      return undefined;
    }
    return this.inRange(v, path, opts.min, opts.max);
  }


  private inRange(v: number, path: string, min: number | undefined, max: number | undefined): number | undefined {
    if ((min !== undefined && v < min) || (max !== undefined && v > max)) {
      this.add(path, rangeMessage(min, max, v));
      return undefined;
    }
    return v;
  }

  bool(v: unknown, path: string, opts: Presence = {}): boolean | undefined {
    if (this.missing(v, path, opts.required)) return undefined;
    if (typeof v !== 'boolean') {
      this.add(path, typeMessage(['boolean'], v));
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[], opts: Presence = {}): T | undefined {
    if (this.missing(v, path, opts.required)) return undefined;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.add(path, enumMessage(allowed, v));
      return undefined;
    }
    return v as T;
  }

  stringList(v: unknown, path: string, opts: Presence & { nonEmpty?: boolean; allowEmptyItems?: boolean; check?: StringCheck } = {}): string[] | undefined {
    const items = this.list(v, path, opts);
    if (!items) return undefined;
    const out: string[] = [];
    let allStrings = true;
    items.forEach((item, i) => {
      if (typeof item !== 'string') {
        allStrings = false;
        return;
      }
      const s = this.string(item, itemPath(path, i), { nonEmpty: !opts.allowEmptyItems, ...(opts.check ? { check: opts.check } : {}) });
      if (s !== undefined) out.push(s);
    });
    if (!allStrings) {
      const bad = items.findIndex((item) => typeof item !== 'string');
      this.add(path, `must be a list of strings (item ${bad} is ${describeValue(items[bad])}${quoteHint(items[bad])})`);
    }
    return out;
  }

  /** A mapping of string to string (labels, annotations, ConfigMap data). */
  stringMap(v: unknown, path: string, opts: Presence & { keyCheck?: StringCheck; valueCheck?: StringCheck } = {}): Record<string, string> | undefined {
    const rec = this.record(v, path, opts);
    if (!rec) return undefined;
    const out: Record<string, string> = {};
    for (const [k, value] of Object.entries(rec)) {
      const p = childPath(path, k);
      const keyProblem = opts.keyCheck?.(k);
      if (keyProblem) this.add(p, `key ${keyProblem}`);
      const s = this.string(value, p, opts.valueCheck ? { check: opts.valueCheck } : {});
      if (s !== undefined && !keyProblem) out[k] = s;
    }
    return out;
  }

  port(v: unknown, path: string, opts: Presence = {}): number | undefined {
    return this.int(v, path, { ...opts, min: 1, max: 65535 });
  }

  /** A duration string; returns milliseconds. `positive` rejects "0s". */
  duration(v: unknown, path: string, opts: Presence & { positive?: boolean } = {}): number | undefined {
    if (this.missing(v, path, opts.required)) return undefined;
    const ms = typeof v === 'string' ? parseDuration(v) : undefined;
    if (ms === undefined) {
      this.add(path, `must be a duration like "1s", "250ms" or "1m30s" (got ${describeValue(v)})`);
      return undefined;
    }
    if (opts.positive && ms === 0) {
      this.add(path, 'must be greater than zero');
      return undefined;
    }
    return ms;
  }


  /**
   * Rejects fields the schema does not define. Ambit's CRDs are strict (as
   * `kubectl apply` is by default) because a misspelt policy field that were
   * silently dropped would widen access. `notes` explains known-but-unsupported
   * fields.
   */
  onlyKnown(rec: Rec, path: string, known: readonly string[], notes: Readonly<Record<string, string>> = {}): void {
    for (const key of Object.keys(rec)) {
      if (known.includes(key)) continue;
      const note = Object.prototype.hasOwnProperty.call(notes, key) ? notes[key] : undefined;
      if (note) {
        this.add(childPath(path, key), note);
        continue;
      }
      this.add(childPath(path, key), unknownFieldMessage(key, known));
    }
  }

  /** At most one of `keys` may be set. */
  exclusive(rec: Rec, path: string, keys: readonly string[]): void {
    const set = keys.filter((k) => field(rec, k) !== undefined && field(rec, k) !== null);
    if (set.length > 1) this.add(path, `set only one of ${set.join(', ')}`);
  }
}

/**
 * Runs a validator so that it can never throw: a crash on junk input is a
 * bug, but it must still come back as an error rather than take down a
 * controller that is watching a malformed object.
 */
export function guarded(path: string, run: (f: Fields) => void): FieldError[] {
  const f = new Fields();
  try {
    run(f);
  } catch (err) {
    f.add(path, `internal validation error (${err instanceof Error ? err.message : String(err)}); please report this`);
  }
  return f.errors;
}
