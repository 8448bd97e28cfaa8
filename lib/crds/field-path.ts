/**
 * Field paths as Kubernetes prints them: `spec.rules[0].from[1].source`.
 * Keys that are not plain identifiers (label keys, header names) are written
 * as `["app.kubernetes.io/name"]` so a path always parses back into the
 * segments it was built from; the lab uses that to find a field's line.
 */

export type PathSegment = string | number;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

export function childPath(path: string, key: string): string {
  if (IDENT.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

export function itemPath(path: string, index: number): string {
  return `${path}[${index}]`;
}

export function formatPath(segments: readonly PathSegment[]): string {
  let path = '';
  for (const s of segments) path = typeof s === 'number' ? itemPath(path, s) : childPath(path, s);
  return path;
}

/** The inverse of `formatPath`; a malformed tail is dropped rather than thrown on. */
export function parsePath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  let i = 0;
  while (i < path.length) {
    if (path[i] === '.') {
      i++;
      continue;
    }
    if (path[i] === '[') {
      if (path[i + 1] === '"') {
        // A JSON string ends at the first unescaped quote followed by ']'.
        let j = i + 2;
        while (j < path.length && !(path[j] === '"' && path[j - 1] !== '\\' && path[j + 1] === ']')) j++;
        try {
          out.push(JSON.parse(path.slice(i + 1, j + 1)) as string);
        } catch {
          return out;
        }
        i = j + 2;
      } else {
        const close = path.indexOf(']', i);
        if (close === -1) return out;
        const n = Number(path.slice(i + 1, close));
        if (!Number.isInteger(n)) return out;
        out.push(n);
        i = close + 1;
      }
      continue;
    }
    let j = i;
    while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
    out.push(path.slice(i, j));
    i = j;
  }
  return out;
}
