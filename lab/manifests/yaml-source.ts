import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import type { PathSegment } from '../../lib/crds/index.js';
import type { ManifestIssue } from './issue.js';

/**
 * Splits manifest text into documents, keeping each document's syntax tree so
 * a field path found wrong later can be turned back into a line number.
 * Documents are numbered from 1 in the order of the stream, counting empty
 * ones, so the number matches what a reader counts between `---` markers.
 */

export interface SourceDocument {
  /** 1-based. */
  index: number;
  /** Plain data (objects, arrays, scalars); `null` for an empty document. */
  value: unknown;
  /** The line of the deepest existing node along `path`. */
  lineOf(path: readonly PathSegment[]): number | undefined;
}

export interface SplitResult {
  documents: SourceDocument[];
  issues: ManifestIssue[];
}

/** Aliases may expand a small text into a huge value (the "billion laughs"); cap the expansion. */
const MAX_ALIAS_COUNT = 100;

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

function locator(doc: Document, counter: LineCounter): (path: readonly PathSegment[]) => number | undefined {
  return (path) => {
    let node: unknown = doc.contents;
    let offset: number | undefined = (node as Node | null)?.range?.[0];
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
        if (!pair) break;
        offset = (pair.key as Node | null)?.range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as Node | undefined;
        if (!item) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else break;
    }
    return offset === undefined ? undefined : counter.linePos(offset).line;
  };
}

export function splitDocuments(text: string, source: string): SplitResult {
  const counter = new LineCounter();
  const documents: SourceDocument[] = [];
  const issues: ManifestIssue[] = [];
  // `merge: true` honours `<<:` merge keys as Kubernetes' YAML 1.1 parser does.
  const docs = parseAllDocuments(text, { lineCounter: counter, merge: true, prettyErrors: false });
  let index = 0;
  for (const doc of docs) {
    index++;
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const pos = counter.linePos(err.pos[0]);
        issues.push({ source, document: index, message: `YAML syntax error: ${firstLine(err.message)}`, line: pos.line });
      }
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      issues.push({ source, document: index, message: `cannot read the document: ${err instanceof Error ? firstLine(err.message) : String(err)}` });
      continue;
    }
    documents.push({ index, value: value ?? null, lineOf: locator(doc, counter) });
  }
  if (issues.length > 0 && /^\s*[[{]/.test(text)) {
    // JSON that YAML refuses (tab indentation is the usual cause) may still be fine JSON.
    try {
      return { documents: [{ index: 1, value: JSON.parse(text) as unknown, lineOf: () => undefined }], issues: [] };
    } catch {
      // Report the YAML errors: they carry line numbers.
    }
  }
  return { documents, issues };
}
