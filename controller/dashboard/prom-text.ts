/**
 * A reader of the Prometheus text exposition format (0.0.4), enough for what
 * prom-client writes: `name{label="value",...} number` lines, comments
 * skipped. The dashboard reads the agents' and waypoints' own `/metrics`, so
 * it needs no Prometheus server; a line it cannot read is skipped rather than
 * failing the whole scrape.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/** The samples of `text` whose metric name `keep` accepts (parsing only those keeps a scrape of a busy agent cheap). */
export function parsePromText(text: string, keep: (name: string) => boolean = () => true): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = NAME.exec(line);
    if (!m || !keep(m[0])) continue;
    const parsed = parseRest(line.slice(m[0].length));
    if (parsed) out.push({ name: m[0], ...parsed });
  }
  return out;
}

/** `{labels} value [timestamp]` after the name. */
function parseRest(rest: string): { labels: Record<string, string>; value: number } | undefined {
  const labels: Record<string, string> = {};
  let i = 0;
  if (rest[0] === '{') {
    i = 1;
    for (;;) {
      while (rest[i] === ' ' || rest[i] === ',') i++;
      if (rest[i] === '}') {
        i++;
        break;
      }
      const key = NAME.exec(rest.slice(i))?.[0];
      if (!key || rest[i + key.length] !== '=' || rest[i + key.length + 1] !== '"') return undefined;
      i += key.length + 2;
      let value = '';
      for (; i < rest.length && rest[i] !== '"'; i++) {
        if (rest[i] === '\\') {
          const next = rest[++i];
          value += next === 'n' ? '\n' : (next ?? '');
        } else value += rest[i];
      }
      if (rest[i] !== '"') return undefined;
      i++;
      labels[key] = value;
    }
  }
  const fields = rest.slice(i).trim().split(/\s+/);
  const value = parseValue(fields[0]);
  return value === undefined ? undefined : { labels, value };
}

function parseValue(s: string | undefined): number | undefined {
  if (s === undefined || s === '') return undefined;
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const n = Number(s);
  return Number.isNaN(n) ? undefined : n;
}
