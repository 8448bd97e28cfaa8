import re2 from 're2-wasm';
import type { StringMatch } from '../../lib/xds/index.js';

/**
 * Compiled string matches of a route (paths, headers, query parameters).
 * Regular expressions run on RE2 (re2-wasm): linear time whatever the
 * request holds, so no pattern can be turned against the proxy with a crafted
 * path or header, which a backtracking engine (JavaScript's RegExp) allows.
 * A pattern matches the whole value, as Envoy's safe_regex does.
 */
export type Matcher = (value: string) => boolean;

/** re2-wasm's compiled pattern lives in wasm memory, returned only by an explicit delete. */
interface Compiled {
  re: re2.RE2;
  match: Matcher;
}

/**
 * The patterns of the routes in force, compiled once each. re2-wasm has a
 * fixed heap and never frees a pattern by itself, so a new config keeps the
 * patterns it still uses and frees the rest (`sweep`), or a stream of route
 * updates would exhaust the heap and abort the process.
 */
export class Patterns {
  private readonly live = new Map<string, Compiled>();
  private used = new Set<string>();

  regex(pattern: string): Matcher {
    this.used.add(pattern);
    let c = this.live.get(pattern);
    if (!c) {
      const re = new re2.RE2(`^(?:${pattern})$`, 'u');
      c = { re, match: (v) => re.test(v) };
      this.live.set(pattern, c);
    }
    return c.match;
  }

  /** Frees every pattern not asked for since the last sweep. */
  sweep(): void {
    for (const [pattern, c] of this.live) {
      if (this.used.has(pattern)) continue;
      (c.re as unknown as { wrapper: { delete(): void } }).wrapper.delete();
      this.live.delete(pattern);
    }
    this.used = new Set();
  }

  get size(): number {
    return this.live.size;
  }
}

/** `/foo` and `/foo/` both match `/foo` and `/foo/bar`, never `/foobar` (Gateway API PathPrefix). */
export function pathPrefix(prefix: string): string {
  return prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
}

export function pathMatcher(m: StringMatch, patterns: Patterns): Matcher {
  if (m.type === 'REGULAR_EXPRESSION') return patterns.regex(m.value);
  if (m.type === 'EXACT') return (p) => p === m.value;
  const prefix = pathPrefix(m.value || '/');
  if (prefix === '/') return () => true;
  return (p) => p.startsWith(prefix) && (p.length === prefix.length || p.charCodeAt(prefix.length) === 47 /* '/' */);
}

/** Header and query-parameter values: exact or RE2. */
export function valueMatcher(m: StringMatch, patterns: Patterns): Matcher {
  return m.type === 'REGULAR_EXPRESSION' ? patterns.regex(m.value) : (v) => v === m.value;
}
