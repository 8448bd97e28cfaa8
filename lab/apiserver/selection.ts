import { deepFreeze } from './object-rules.js';
import type { ResourceType } from './resources.js';
import { parseFieldSelector, parseLabelSelector, type FieldSelector, type LabelSelector } from './selectors.js';
import { ApiError } from './status.js';
import type { EventType, KubeObject, StoreEvent } from './types.js';

/**
 * What a list or a watch selects: the namespace and selector filter, the
 * per-watcher view of a change, and list paging tokens.
 */

export interface SelectOptions {
  /** Only this namespace; absent or '' means all namespaces. */
  namespace?: string;
  labelSelector?: string | LabelSelector;
  fieldSelector?: string | FieldSelector;
}

/** A predicate for the objects the options select; throws a 400 ApiError for invalid selectors. */
export function matcher(res: ResourceType, opts: SelectOptions): (o: Readonly<KubeObject>) => boolean {
  const labels = typeof opts.labelSelector === 'string' || opts.labelSelector === undefined ? parseLabelSelector(opts.labelSelector) : opts.labelSelector;
  const fields = typeof opts.fieldSelector === 'string' || opts.fieldSelector === undefined ? parseFieldSelector(opts.fieldSelector) : opts.fieldSelector;
  // A namespace filter means nothing for cluster-scoped types.
  const ns = (res.namespaced && opts.namespace) || undefined;
  return (o) => (ns === undefined || o.metadata.namespace === ns) && labels.matches(o.metadata.labels) && fields.matches(o);
}

/**
 * What one filtered watcher sees of a change, following the API server's
 * cacher: leaving the selection is a DELETED (with the old state at the new
 * resourceVersion), entering it is an ADDED.
 */
export function translate(ev: StoreEvent, match: (o: Readonly<KubeObject>) => boolean): { type: EventType; object: Readonly<KubeObject> } | undefined {
  const now = match(ev.object);
  if (ev.type !== 'MODIFIED') return now ? { type: ev.type, object: ev.object } : undefined;
  const before = ev.oldObject !== undefined && match(ev.oldObject);
  if (now) return { type: before ? 'MODIFIED' : 'ADDED', object: ev.object };
  if (!before) return undefined;
  const old = ev.oldObject!;
  return { type: 'DELETED', object: deepFreeze({ ...old, metadata: { ...old.metadata, resourceVersion: ev.object.metadata.resourceVersion } }) };
}

/** The `continue` token for a page that ended at `lastKey`. */
export function encodeContinue(lastKey: string): string {
  return Buffer.from(JSON.stringify({ after: lastKey })).toString('base64url');
}

/** The key a `continue` token resumes after; 400 if the token is not one of ours. */
export function decodeContinue(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch {
    // fall through to the error below
  }
  throw new ApiError('BadRequest', `continue token "${token}" is not valid`);
}
