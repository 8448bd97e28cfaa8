import { describeValue, field, Fields, isRecord, parsePath, type Rec } from '../../lib/crds/index.js';
import type { KubeObject } from '../../lib/k8s/types.js';
import { applyDefaults, DEFAULT_NAMESPACE } from './defaults.js';
import { ManifestError, type ManifestIssue } from './issue.js';
import { findKindRule, KIND_RULES, kindProblem } from './kinds.js';
import { checkMetadata, identity } from './metadata.js';
import { splitDocuments, type SourceDocument } from './yaml-source.js';

/**
 * Manifest text to validated, defaulted objects. Every object is checked in
 * full and every problem reported; objects without problems are returned
 * even when others have some, so a caller may choose to apply the good ones
 * (`checkManifestText`) or refuse the lot (`parseManifestText`).
 */

export interface ManifestOrigin {
  source: string;
  /** 1-based document number within the source. */
  document: number;
  /** `items[i]` for an item of a List, '' otherwise. */
  path: string;
  line?: number;
}

export interface ManifestCheck {
  objects: KubeObject[];
  issues: ManifestIssue[];
}

// Where each returned object came from, so later stages (scheduling, IPAM) can
// point at the manifest without the object carrying extra fields.
const origins = new WeakMap<object, ManifestOrigin>();

/** The file and document an object was loaded from, if it came from this loader. */
export function manifestOrigin(obj: object): ManifestOrigin | undefined {
  return origins.get(obj);
}

/** `source: document N`, for messages of later stages. */
export function describeOrigin(origin: ManifestOrigin): string {
  return `${origin.source}: document ${origin.document}${origin.path ? ` ${origin.path}` : ''}`;
}

function joinPath(prefix: string, path: string): string {
  if (!prefix) return path;
  if (!path) return prefix;
  return path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;
}

function objectName(value: Rec): string | undefined {
  const { kind, namespace, name } = identity(value);
  if (kind === undefined && name === undefined) return undefined;
  // By kind alone, so an object with a wrong apiVersion is still named as it will be.
  const rule = KIND_RULES.find((k) => k.kind === kind);
  const ns = rule ? (rule.namespaced ? (namespace ?? DEFAULT_NAMESPACE) : undefined) : namespace;
  const n = name ?? '<no name>';
  return `${kind ?? '<no kind>'} ${ns ? `${ns}/${n}` : n}`;
}

interface Reader {
  source: string;
  doc: SourceDocument;
  objects: KubeObject[];
  issues: ManifestIssue[];
}

function report(r: Reader, prefix: string, object: string | undefined, path: string, message: string): void {
  const full = joinPath(prefix, path);
  const issue: ManifestIssue = { source: r.source, document: r.doc.index, message };
  if (object !== undefined) issue.object = object;
  if (full) issue.path = full;
  const line = r.doc.lineOf(parsePath(full));
  if (line !== undefined) issue.line = line;
  r.issues.push(issue);
}

function readObject(r: Reader, value: unknown, prefix: string): void {
  if (!isRecord(value)) {
    const hint = Array.isArray(value) ? '; put several objects in separate documents (---) or in a "kind: List"' : '';
    report(r, prefix, undefined, '', `must be a Kubernetes object, a mapping with apiVersion, kind and metadata (got ${describeValue(value)}${hint})`);
    return;
  }
  const object = objectName(value);
  const f = new Fields();
  const problem = kindProblem(field(value, 'apiVersion'), field(value, 'kind'));
  const rule = findKindRule(field(value, 'apiVersion'), field(value, 'kind'));
  if (problem || !rule) {
    if (problem) f.add(problem.path, problem.message);
  } else {
    checkMetadata(f, field(value, 'metadata'), rule);
    // Work on a private copy: checks see the namespace the object will have,
    // and defaults never leak into the caller's data.
    const copy = structuredClone(value);
    const meta = field(copy, 'metadata');
    if (rule.namespaced && isRecord(meta) && (field(meta, 'namespace') === undefined || field(meta, 'namespace') === '')) meta['namespace'] = DEFAULT_NAMESPACE;
    try {
      rule.check?.(f, copy);
    } catch (err) {
      f.add('', `internal validation error (${err instanceof Error ? err.message : String(err)}); please report this`);
    }
    if (f.ok) {
      applyDefaults(copy, rule.namespaced);
      const origin: ManifestOrigin = { source: r.source, document: r.doc.index, path: prefix };
      const line = r.doc.lineOf(parsePath(prefix));
      if (line !== undefined) origin.line = line;
      origins.set(copy, origin);
      r.objects.push(copy as KubeObject);
      return;
    }
  }
  const first = r.issues.length;
  for (const e of f.errors) report(r, prefix, object, e.path, e.message);
  // Checks run field by field; the reader wants them top to bottom. (The sort is stable.)
  const mine = r.issues.splice(first).sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  r.issues.push(...mine);
}

function readDocument(r: Reader): void {
  const value = r.doc.value;
  if (value === null) return; // an empty document, e.g. after a trailing ---
  const kind = isRecord(value) ? field(value, 'kind') : undefined;
  // `kind: List` (and typed lists such as PodList) carry their objects in items.
  if (typeof kind === 'string' && kind.endsWith('List') && isRecord(value) && !findKindRule(field(value, 'apiVersion'), kind)) {
    const items = field(value, 'items');
    if (!Array.isArray(items)) {
      report(r, '', kind, 'items', `must be a list of objects (got ${describeValue(items)})`);
      return;
    }
    items.forEach((item, i) => {
      const itemKind = isRecord(item) ? field(item, 'kind') : undefined;
      if (typeof itemKind === 'string' && itemKind.endsWith('List') && !findKindRule(field(item as Rec, 'apiVersion'), itemKind)) {
        report(r, `items[${i}]`, itemKind, '', 'a List inside a List is not supported');
      } else readObject(r, item, `items[${i}]`);
    });
    return;
  }
  readObject(r, value, '');
}

/** Drops later copies of the same object, reporting each against the first. */
export function dropDuplicates(objects: KubeObject[], issues: ManifestIssue[]): KubeObject[] {
  const first = new Map<string, KubeObject>();
  const kept: KubeObject[] = [];
  for (const obj of objects) {
    const key = `${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const earlier = first.get(key);
    if (!earlier) {
      first.set(key, obj);
      kept.push(obj);
      continue;
    }
    const here = manifestOrigin(obj);
    const there = manifestOrigin(earlier);
    const ns = obj.metadata.namespace;
    const issue: ManifestIssue = {
      source: here?.source ?? '<unknown>',
      object: `${obj.kind} ${ns ? `${ns}/` : ''}${obj.metadata.name}`,
      path: here?.path ? `${here.path}.metadata.name` : 'metadata.name',
      message: `the same object is already defined at ${there ? describeOrigin(there) : 'an earlier document'}`,
    };
    if (here) issue.document = here.document;
    if (here?.line !== undefined) issue.line = here.line;
    issues.push(issue);
  }
  return kept;
}

/** Validated objects and every issue; never throws. */
export function checkManifestText(text: string, sourceName: string): ManifestCheck {
  const { documents, issues } = splitDocuments(text, sourceName);
  const objects: KubeObject[] = [];
  for (const doc of documents) readDocument({ source: sourceName, doc, objects, issues });
  return { objects: dropDuplicates(objects, issues), issues };
}

/**
 * Parses one manifest text (the body of a `lab apply` request, say), naming it
 * `sourceName` in messages. Throws `ManifestError` listing every issue.
 */
export function parseManifestText(text: string, sourceName: string): KubeObject[] {
  const { objects, issues } = checkManifestText(text, sourceName);
  if (issues.length > 0) throw new ManifestError(issues);
  return objects;
}
