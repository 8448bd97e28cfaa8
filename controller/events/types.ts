/**
 * What the controller says about the objects it manages, as Kubernetes
 * Events (events.k8s.io/v1): the reconcilers describe what happened, the
 * writer (writer.ts) decides what reaches the API server.
 */

export type EventType = 'Normal' | 'Warning';

/** The object an Event is about (`regarding`), as it was when the controller acted on it. */
export interface ObjectReference {
  apiVersion: string;
  kind: string;
  /** Absent for cluster-scoped objects (their Events go to `default`). */
  namespace?: string;
  name: string;
  uid: string;
  resourceVersion?: string;
}

export interface EventRecord {
  regarding: ObjectReference;
  type: EventType;
  /** Why, in UpperCamelCase: what `kubectl get events` shows in REASON (at most 128 characters). */
  reason: string;
  /** What the controller did or failed to do (at most 128 characters). */
  action: string;
  /** For people: what `kubectl describe` shows in Message (cut to 1 KiB). */
  note: string;
}

/**
 * Where reconcilers report what happened. Recording never blocks and never
 * throws: the Event is written later, or dropped (and counted) when the API
 * server cannot take it, so reconciling never waits for or fails on Events.
 */
export interface EventRecorder {
  record(event: EventRecord): void;
}

/** Records nothing: for reconcilers run without an API server to write to (tests, replicas that never write). */
export const DISCARD_EVENTS: EventRecorder = Object.freeze({ record: () => undefined });
