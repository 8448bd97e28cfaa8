/**
 * HBONE names and defaults in one place. Tuning values were measured on loopback
 * (see bench.ts and the numbers in index.ts).
 */

/** The HBONE port of node agents and waypoints (SPEC: ports). */
export const HBONE_PORT = 15008;

/** Response header carrying a human-readable reason for a refused tunnel. */
export const REASON_HEADER = 'ambit-reason';

/** Longest reason sent in REASON_HEADER (longer ones are truncated). */
export const MAX_REASON_LENGTH = 300;

/** Server: a TCP connection must finish the TLS handshake within this time. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Server and pool: a session without streams is closed after this time. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** Pool: TCP connect + TLS handshake + HTTP/2 setup to the peer must finish within this time. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Pool: the peer must answer a CONNECT (authorize + its upstream connect) within this time. */
export const DEFAULT_RESPONSE_TIMEOUT_MS = 15_000;

/** Server: its own connect to the destination workload must finish within this time. */
export const DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS = 10_000;

/** Pool: streams per HTTP/2 session before another session is opened (ztunnel uses 100). */
export const DEFAULT_MAX_STREAMS_PER_SESSION = 100;

/** Server: SETTINGS_MAX_CONCURRENT_STREAMS it advertises. */
export const DEFAULT_SERVER_MAX_STREAMS = 1000;

/**
 * HTTP/2 flow control and framing. The HTTP/2 defaults (64 KiB windows, 16 KiB frames) cap a
 * tunnel's throughput; larger windows let a stream keep the pipe full. Memory is bounded by
 * window x streams; maxSessionMemory bounds what nghttp2 buffers per session.
 */
export const H2_TUNING = Object.freeze({
  /** Per-stream receive window (SETTINGS_INITIAL_WINDOW_SIZE). */
  streamWindow: 4 * 1024 * 1024,
  /** Connection-level receive window (WINDOW_UPDATE on stream 0). */
  connectionWindow: 16 * 1024 * 1024,
  /** SETTINGS_MAX_FRAME_SIZE we accept. */
  maxFrameSize: 64 * 1024,
  /** nghttp2 memory cap per session, MiB (Node's default is 10). */
  maxSessionMemoryMiB: 64,
  /** highWaterMark of the tunnel's streams and sockets. */
  highWaterMark: 256 * 1024,
});
