import { isDeepStrictEqual } from 'node:util';
import { isPlainObject } from './patch.js';
import type { ResourceType } from './resources.js';
import { ApiError } from './status.js';
import type { DraftObject, KubeObject } from './types.js';

/**
 * events.k8s.io/v1 Events, served as kube-apiserver serves them: over the
 * storage of core v1 Events, so an Event written through either API is one
 * object that both list and watch (`kubectl get events` and `kubectl
 * describe` read the core API; controllers write the events.k8s.io one). The
 * two shapes differ only in field names (pkg/apis/events/v1 conversion):
 * `regarding` is `involvedObject`, `note` is `message`, `reportingController`
 * is `reportingComponent`, and the legacy fields carry a `deprecated` prefix.
 *
 * Writes through events.k8s.io/v1 are checked as kube-apiserver checks them
 * (ValidateEventCreate/Update for that version): eventTime, a qualified
 * reportingController, reportingInstance, action and reason are required,
 * the note is at most 1 KiB, timestamps are MicroTime (six fractional
 * digits, or the server cannot decode them), a series counts at least 2, and
 * an update may change nothing but the series and metadata.
 */

/** [events.k8s.io/v1 name, core v1 name] of every field whose name differs. */
const RENAMED: readonly (readonly [string, string])[] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function rename(obj: Readonly<Record<string, unknown>>, pairs: readonly (readonly [string, string])[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...obj };
  for (const [from, to] of pairs) {
    delete out[from];
    if (obj[from] !== undefined) out[to] = obj[from];
  }
  return out;
}

const TO_CORE = RENAMED;
const TO_V1 = RENAMED.map(([v1, core]) => [core, v1] as const);

/** The core v1 shape of an events.k8s.io/v1 Event. */
export function toCoreEvent<T extends DraftObject | Readonly<KubeObject>>(obj: T): T {
  return { ...rename(obj, TO_CORE), apiVersion: 'v1', kind: 'Event' } as unknown as T;
}

/** The events.k8s.io/v1 shape of a stored (core v1) Event; an Event written by an old client has no eventTime (null, as the API serves it). */
export function toV1Event(obj: Readonly<KubeObject>): KubeObject {
  const out = { ...rename(obj, TO_V1), apiVersion: 'events.k8s.io/v1', kind: 'Event' } as KubeObject;
  if (out.eventTime === undefined) out.eventTime = null;
  return out;
}

/** What `metav1.MicroTime` decodes: RFC 3339 with exactly six fractional digits (Go's RFC3339Micro layout). */
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;
/** A qualified name (k8s.io/apimachinery IsQualifiedName): an optional DNS subdomain prefix and `/`, then a name. */
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

const LIMITS = { action: 128, reason: 128, reportingInstance: 128, note: 1024 } as const;

/** The fields an update through events.k8s.io/v1 may not change (ValidateEventUpdate). */
const IMMUTABLE = ['regarding', 'related', 'reason', 'note', 'type', 'action', 'reportingController', 'reportingInstance', 'eventTime', 'deprecatedSource', 'deprecatedFirstTimestamp', 'deprecatedLastTimestamp', 'deprecatedCount'] as const;

/** A body the server cannot decode: MicroTime text in another layout (400, as kube-apiserver's decoder answers). */
function checkDecodable(obj: DraftObject): void {
  const times: [string, unknown][] = [['eventTime', obj.eventTime]];
  if (isPlainObject(obj.series)) times.push(['series.lastObservedTime', obj.series.lastObservedTime]);
  for (const [field, value] of times) {
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || !MICRO_TIME.test(value)) {
      throw new ApiError(
        'BadRequest',
        `Event in version "v1" cannot be handled as a Event: ${field}: parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05.000000Z07:00": MicroTime needs exactly six fractional digits`,
      );
    }
  }
}

function seriesErrors(obj: DraftObject): string[] {
  if (obj.series === undefined || obj.series === null) return [];
  if (!isPlainObject(obj.series)) return ['series: Invalid value: must be an object'];
  const errs: string[] = [];
  const count = obj.series.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 2) errs.push('series.count: Invalid value: "": should be at least 2');
  if (!obj.series.lastObservedTime) errs.push('series.lastObservedTime: Required value');
  return errs;
}

function createErrors(obj: DraftObject): string[] {
  const errs: string[] = [];
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const regarding = isPlainObject(obj.regarding) ? obj.regarding : {};
  const ns = str(obj.metadata.namespace);
  if (str(regarding.namespace) === '' && ns !== '' && ns !== 'default' && ns !== 'kube-system') errs.push('regarding.namespace: Invalid value: "": does not match event.namespace');
  if (!obj.eventTime) errs.push('eventTime: Required value');
  const controller = str(obj.reportingController);
  if (controller === '') errs.push('reportingController: Required value');
  else if (!QUALIFIED_NAME.test(controller) || controller.length > 316) errs.push(`reportingController: Invalid value: ${JSON.stringify(controller)}: must be a qualified name`);
  for (const f of ['reportingInstance', 'action', 'reason'] as const) {
    const v = str(obj[f]);
    if (v === '') errs.push(`${f}: Required value`);
    else if (v.length > LIMITS[f]) errs.push(`${f}: Invalid value: "": can have at most ${LIMITS[f]} characters`);
  }
  if (Buffer.byteLength(str(obj.note)) > LIMITS.note) errs.push(`note: Invalid value: "": can have at most ${LIMITS.note} characters`);
  if (obj.type !== 'Normal' && obj.type !== 'Warning') errs.push(`type: Invalid value: "": has invalid value: ${str(obj.type)}`);
  for (const f of ['deprecatedFirstTimestamp', 'deprecatedLastTimestamp', 'deprecatedCount'] as const) if (obj[f]) errs.push(`${f}: Invalid value: "": needs to be unset`);
  if (isPlainObject(obj.deprecatedSource) && (obj.deprecatedSource.component || obj.deprecatedSource.host)) errs.push('deprecatedSource: Invalid value: "": needs to be unset');
  return [...errs, ...seriesErrors(obj)];
}

function updateErrors(obj: DraftObject, old: Readonly<KubeObject>): string[] {
  const errs = IMMUTABLE.filter((f) => !isDeepStrictEqual(obj[f] ?? null, old[f] ?? null)).map((f) => `${f}: Invalid value: field is immutable`);
  return isDeepStrictEqual(obj.series ?? null, old.series ?? null) ? errs : [...errs, ...seriesErrors(obj)];
}

/**
 * Checks a create (no `old`) or an update (`old`: the stored Event, in the
 * events.k8s.io/v1 shape) of an Event sent through events.k8s.io/v1; throws
 * 400 for bodies a real server cannot decode, 422 for invalid ones.
 */
export function validateV1Event(res: Pick<ResourceType, 'group' | 'plural'>, obj: DraftObject, old?: Readonly<KubeObject>): void {
  checkDecodable(obj);
  const errs = old ? updateErrors(obj, old) : createErrors(obj);
  if (errs.length === 0) return;
  const name = typeof obj.metadata.name === 'string' ? obj.metadata.name : '';
  throw new ApiError('Invalid', `Event.events.k8s.io ${JSON.stringify(name)} is invalid: ${errs.join(', ')}`, { ...(name ? { name } : {}), group: res.group, kind: res.plural });
}
