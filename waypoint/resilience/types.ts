/**
 * The small vocabulary the resilience blocks share: an injectable clock and
 * random source (so tests are deterministic and need no timers), the way one
 * try at an upstream endpoint ended, and a once-only release.
 */

export { monotonicMs, type Clock } from '../../lib/clock.js';

/** A number in [0, 1), like Math.random. */
export type Random = () => number;

/**
 * How one try at an upstream endpoint ended.
 * - `response`: a response head arrived. `grpcStatus` is the grpc-status the
 *   caller read (response headers of a trailers-only response, or trailers).
 * - `connect-failure`: no connection (refused, unreachable, connect timeout,
 *   HBONE CONNECT refused).
 * - `reset`: the stream or connection was reset before a response head;
 *   `refusedStream` when HTTP/2 said REFUSED_STREAM (the request was not processed).
 * - `timeout`: the per-try timeout fired before a response head.
 */
export type TryOutcome =
  | { kind: 'response'; status: number; grpcStatus?: number }
  | { kind: 'connect-failure' }
  | { kind: 'reset'; refusedStream?: boolean }
  | { kind: 'timeout' };

/** Gives back what was acquired. Calling it again does nothing. */
export type Release = () => void;
