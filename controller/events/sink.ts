import { EventsV1Api, PatchStrategy, V1MicroTime, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { requestTimeout } from '../../lib/k8s/client.js';
import { toApiRequestError } from '../../lib/k8s/errors.js';
import type { EventType, ObjectReference } from './types.js';

/** The events.k8s.io/v1 Event the writer creates; times are MicroTime text (six fractional digits). */
export interface EventBody {
  metadata: { name: string; namespace: string };
  eventTime: string;
  series?: EventSeries;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  regarding: ObjectReference;
  note: string;
  type: EventType;
}

export interface EventSeries {
  count: number;
  lastObservedTime: string;
}

/**
 * Where Events are written: one boundary, so the writer runs as well against
 * a fake. Failures reject with an ApiRequestError (lib/k8s/errors.ts), whose
 * `code` is the HTTP status (undefined when none came back).
 */
export interface EventSink {
  create(event: EventBody): Promise<void>;
  /** A merge patch of `series` on an Event created before: how repeats are counted. */
  patchSeries(namespace: string, name: string, series: EventSeries): Promise<void>;
}

/** Through events.k8s.io/v1 with the controller's credentials; each request is abandoned after `timeoutMs`. */
export function kubeEventSink(kc: KubeConfig, timeoutMs = 10_000): EventSink {
  const api = kc.makeApiClient(EventsV1Api);
  const timeout = requestTimeout(timeoutMs);
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch, timeout);
  const call = async (p: () => Promise<unknown>): Promise<void> => {
    try {
      await p();
    } catch (err) {
      throw toApiRequestError(err);
    }
  };
  // client-node writes a V1MicroTime with six fractional digits; a Date or ISO text would have three, which the API server cannot decode.
  const micro = (s: EventSeries) => ({ count: s.count, lastObservedTime: new V1MicroTime(s.lastObservedTime) });
  return {
    create: ({ series, eventTime, ...e }) =>
      call(() =>
        api.createNamespacedEvent(
          { namespace: e.metadata.namespace, body: { apiVersion: 'events.k8s.io/v1', kind: 'Event', ...e, eventTime: new V1MicroTime(eventTime), ...(series ? { series: micro(series) } : {}) } },
          timeout,
        ),
      ),
    patchSeries: (namespace, name, series) => call(() => api.patchNamespacedEvent({ namespace, name, body: { series: micro(series) } }, mergePatch)),
  };
}
