import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node';
import { fail, ok, type Result } from '../../lib/errors.js';
import { requestTimeout } from '../../lib/k8s/client.js';
import { toApiRequestError } from '../../lib/k8s/errors.js';
import type { LeaseLock, LeaseRecord, LockFailure } from './lock.js';

/**
 * The Lease lock through the Kubernetes API (get, create and update of one
 * Lease: the chart's Role grants exactly these). As client-go's LeaseLock, it
 * keeps the Lease it last read or wrote and updates over its resourceVersion,
 * so the API server's optimistic concurrency decides every race.
 */

const FIELD_MANAGER = 'ambit-controller';

const microTime = (iso: string | undefined): V1MicroTime | undefined => (iso === undefined ? undefined : new V1MicroTime(iso));
/** client-node hands MicroTime fields back as the API server's text (or a Date, from another path). */
const text = (t: unknown): string | undefined => (t instanceof Date ? t.toISOString() : typeof t === 'string' ? t : undefined);

export function recordOf(spec: V1LeaseSpec | undefined): LeaseRecord {
  return {
    holderIdentity: spec?.holderIdentity ?? '',
    leaseDurationSeconds: spec?.leaseDurationSeconds ?? 0,
    acquireTime: text(spec?.acquireTime),
    renewTime: text(spec?.renewTime),
    leaseTransitions: spec?.leaseTransitions ?? 0,
  };
}

function specOf(r: LeaseRecord): V1LeaseSpec {
  const spec: V1LeaseSpec = { holderIdentity: r.holderIdentity, leaseDurationSeconds: r.leaseDurationSeconds, leaseTransitions: r.leaseTransitions };
  const acquireTime = microTime(r.acquireTime);
  const renewTime = microTime(r.renewTime);
  if (acquireTime) spec.acquireTime = acquireTime;
  if (renewTime) spec.renewTime = renewTime;
  return spec;
}

function failure(err: unknown): LockFailure {
  const e = toApiRequestError(err);
  const timedOut = (err as { name?: string })?.name === 'TimeoutError' || (err as { name?: string })?.name === 'AbortError';
  return {
    reason: e.code === 409 ? 'conflict' : 'error',
    ...(e.code === undefined ? {} : { status: e.code }),
    message: timedOut ? 'the request timed out' : e.message,
  };
}

export interface KubeLeaseLockOptions {
  kc: KubeConfig;
  namespace: string;
  name: string;
  /** Each request is abandoned after this long. */
  requestTimeoutMs: number;
}

export function kubeLeaseLock(o: KubeLeaseLockOptions): LeaseLock {
  const api = o.kc.makeApiClient(CoordinationV1Api);
  const { namespace, name } = o;
  let last: V1Lease | undefined;
  return {
    describe: `Lease ${namespace}/${name}`,
    get: async (): Promise<Result<LeaseRecord | undefined, LockFailure>> => {
      try {
        last = await api.readNamespacedLease({ namespace, name }, requestTimeout(o.requestTimeoutMs));
        return ok(recordOf(last.spec));
      } catch (err) {
        const f = failure(err);
        if (f.status === 404) {
          last = undefined;
          return ok(undefined);
        }
        return fail(f);
      }
    },
    create: async (record): Promise<Result<void, LockFailure>> => {
      try {
        last = await api.createNamespacedLease({ namespace, body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: specOf(record) }, fieldManager: FIELD_MANAGER }, requestTimeout(o.requestTimeoutMs));
        return ok(undefined);
      } catch (err) {
        return fail(failure(err));
      }
    },
    update: async (record): Promise<Result<void, LockFailure>> => {
      // Nothing read yet: there is no version to write over, and writing without one would win any race.
      if (!last) return fail({ reason: 'error', message: `${namespace}/${name}: no version of the Lease read yet` });
      try {
        last = await api.replaceNamespacedLease({ namespace, name, body: { ...last, spec: specOf(record) }, fieldManager: FIELD_MANAGER }, requestTimeout(o.requestTimeoutMs));
        return ok(undefined);
      } catch (err) {
        return fail(failure(err));
      }
    },
  };
}
