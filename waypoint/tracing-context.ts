import { randomFillSync } from 'node:crypto';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/, level 1): reading
 * `traceparent` and `tracestate` as a participant, writing `traceparent`, and
 * the ids of new traces and spans. Pure and cheap: it runs for every request
 * the waypoint forwards, exporting or not.
 */

/** What the waypoint keeps of a valid incoming `traceparent`. */
export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** The caller's span: 16 lowercase hex digits, not all zero. */
  parentId: string;
  /** The caller's recording decision (bit 0 of trace-flags). */
  sampled: boolean;
}

/** A header as Node gives it (HTTP/1.1 and HTTP/2 alike): absent, one value, or several. */
export type HeaderValue = string | readonly string[] | undefined;

const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);
const DASH = 0x2d;

/** `0-9a-f` only: the spec's HEXDIGLC (uppercase makes the header invalid). */
function lowerHex(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** Strips the optional whitespace (SP, HTAB) an HTTP field value may carry; HTTP/2 does not strip it for us. */
function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/**
 * A `traceparent` value, or undefined when the trace must (re)start: absent,
 * sent more than once, or invalid by the spec's rules. Version `00` is exactly
 * `00-<32 hex>-<16 hex>-<2 hex>`; `ff` is invalid; a higher version is read by
 * the same positions if it is at least that long and anything after the flags
 * starts with `-` (fields it adds are ignored, as the spec requires). Every
 * field is lowercase hex, and all-zero trace and parent ids are invalid.
 */
export function parseTraceparent(header: HeaderValue): TraceParent | undefined {
  if (header === undefined) return undefined;
  let value: string;
  if (typeof header === 'string') value = header;
  else if (header.length === 1) value = header[0]!;
  else return undefined;
  const v = trimOws(value);
  if (v.length < 55 || !lowerHex(v, 0, 2) || v.charCodeAt(2) !== DASH) return undefined;
  const version = v.slice(0, 2);
  if (version === 'ff') return undefined;
  if (version === '00' ? v.length !== 55 : v.length > 55 && v.charCodeAt(55) !== DASH) return undefined;
  if (!lowerHex(v, 3, 35) || v.charCodeAt(35) !== DASH || !lowerHex(v, 36, 52) || v.charCodeAt(52) !== DASH || !lowerHex(v, 53, 55)) return undefined;
  const traceId = v.slice(3, 35);
  const parentId = v.slice(36, 52);
  if (traceId === INVALID_TRACE_ID || parentId === INVALID_SPAN_ID) return undefined;
  return { traceId, parentId, sampled: (parseInt(v.slice(53, 55), 16) & 1) === 1 };
}

/**
 * The `tracestate` to send on, as received: several header fields are combined
 * with commas (RFC 9110 5.3), nothing else changes. Undefined when there is
 * none, or nothing but empty list members (the spec asks not to send an empty one).
 */
export function tracestateOf(header: HeaderValue): string | undefined {
  if (header === undefined) return undefined;
  const v = typeof header === 'string' ? header : header.join(',');
  return /^[ \t,]*$/.test(v) ? undefined : v;
}

/**
 * The `traceparent` of a request this hop sends: version 00, the hop's span as
 * the parent, and only the sampled flag (level 1 says the other flags are zero).
 */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/**
 * Random bytes for ids, drawn from the CSPRNG 4 KiB at a time: one
 * `randomBytes` per id costs more than the rest of a request's tracing. The
 * pool is per thread (each worker has its own module instance).
 */
const pool = Buffer.alloc(4096);
let used = pool.length;

function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}

/** A new trace id: 16 random bytes as 32 lowercase hex digits, never all zero. */
export function newTraceId(): string {
  let id: string;
  do id = randomHex(16);
  while (id === INVALID_TRACE_ID);
  return id;
}

/** A new span id: 8 random bytes as 16 lowercase hex digits, never all zero. */
export function newSpanId(): string {
  let id: string;
  do id = randomHex(8);
  while (id === INVALID_SPAN_ID);
  return id;
}
