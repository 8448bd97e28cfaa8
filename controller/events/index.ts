/** Kubernetes Events (events.k8s.io/v1) about the objects the controller manages: recorded by reconcilers, written by the leader. */
export { conditionEvents, type ConditionState } from './conditions.js';
export { kubeEventSink, type EventBody, type EventSeries, type EventSink } from './sink.js';
export { DISCARD_EVENTS, type EventRecord, type EventRecorder, type EventType, type ObjectReference } from './types.js';
export { DEFAULT_EVENT_LIMITS, EventWriter, REPORTING_CONTROLLER, microTime, type EventLimits, type EventResult, type EventWriterOptions } from './writer.js';
