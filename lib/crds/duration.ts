/**
 * Durations in the Gateway API grammar (GEP-2257): one to four
 * `<1-5 digits><h|m|s|ms>` parts, e.g. "1s", "250ms", "1m30s". Ambit uses the
 * same grammar in its own CRDs so a value that works in an HTTPRoute timeout
 * works in a TrafficPolicy too.
 */

const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const PART = /([0-9]{1,5})(ms|h|m|s)/g;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Milliseconds, or undefined when `s` is not a duration. */
export function parseDuration(s: string): number | undefined {
  if (!DURATION.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(PART)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}
