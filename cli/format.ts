import { stringify } from 'yaml';

/** `-o`: people get tables and sentences, scripts JSON or YAML of one documented structure. */
export const OUTPUT_FORMATS = ['human', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** A machine-readable rendering; `human` is each command's own. */
export function renderData(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value);
}

/** Left-aligned columns two spaces apart, the first row a header (as kubectl prints). */
export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

/** `3d4h`, `5h12m`, `42m`, `-2h` (expired): how long until `at`, for expiry columns. */
export function until(at: number, now: number): string {
  const ms = at - now;
  const sign = ms < 0 ? '-' : '';
  const m = Math.floor(Math.abs(ms) / 60_000);
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  if (d > 0) return `${sign}${d}d${h}h`;
  if (h > 0) return `${sign}${h}h${m % 60}m`;
  return `${sign}${m}m`;
}
