/** HBONE names and defaults in one place. */

/** The HBONE port of node agents and waypoints (SPEC: ports). */
export const HBONE_PORT = 15008;

/** Response header carrying a human-readable reason for a refused tunnel. */
export const REASON_HEADER = 'ambit-reason';

/** Longest reason sent in REASON_HEADER (longer ones are truncated). */
export const MAX_REASON_LENGTH = 300;

/** Server: a TCP connection must finish the TLS handshake within this time. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Server: a session without streams is closed after this time. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/**
 * Pool: the last session to a peer closes after this long without streams.
 * Shorter than the server's, so the client closes first and never puts a
 * stream on a session the server is closing. A session that carried many
 * streams holds memory until it closes (measured: about 13 MB on the
 * destination agent for one that carried a 2,500-connection burst), and the
 * next connection after a quiet half minute pays one handshake.
 */
export const DEFAULT_POOL_IDLE_TIMEOUT_MS = 30_000;

/**
 * Pool: a session without streams while another of its group is still up is
 * a spare, left by a burst, and closes after this time; the last one keeps
 * the whole idle timeout, so the next connection needs no handshake. Each
 * spare holds a TLS connection and its buffers (5,000 connections at once
 * leave about 50 sessions behind).
 */
export const DEFAULT_SPARE_IDLE_TIMEOUT_MS = 10_000;

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
 * HTTP/2 flow control and framing. Measured with bench.ts (one tunnel, 256 MiB, loopback,
 * client and server on separate threads, 2 vCPU, Node 20.20; best of 3, noisy +-20%):
 *   HTTP/2 defaults (64 KiB windows, 16 KiB frames)       ~330 MiB/s up, ~290 MiB/s down
 *   4 MiB stream / 16 MiB connection window, 16 KiB frames ~490 up, ~550 down
 *   same windows, 256 KiB frames (chosen)                  ~560 up, ~580 down
 *   same windows, 1 MiB frames                             ~600 up, ~560 down
 *   16 MiB / 32 MiB windows, 1 MiB frames                  ~510 up, ~550 down
 * Past 1-4 MiB windows the tunnel is CPU-bound. Frames stay at 256 KiB so one bulk stream
 * does not hold up the other streams of its session for long. Memory is bounded by window x
 * streams; maxSessionMemory bounds what nghttp2 buffers per session.
 */
export const H2_TUNING = Object.freeze({
  /** Per-stream receive window (SETTINGS_INITIAL_WINDOW_SIZE). */
  streamWindow: 4 * 1024 * 1024,
  /** Connection-level receive window (WINDOW_UPDATE on stream 0). */
  connectionWindow: 16 * 1024 * 1024,
  /** SETTINGS_MAX_FRAME_SIZE we accept. */
  maxFrameSize: 256 * 1024,
  /** nghttp2 memory cap per session, MiB (Node's default is 10). */
  maxSessionMemoryMiB: 64,
});

/**
 * nghttp2's rapid-reset guard (CVE-2023-44487) on a Node HBONE server: a client session whose
 * RST_STREAMs exceed a token bucket of this burst, refilled at this rate per second, gets
 * GOAWAY(INTERNAL_ERROR), killing its streams. Node has no knob for it, so the pool keeps
 * each session's own budget and moves new streams to a fresh session before running out.
 */
export const PEER_RST_BURST = 1000;
export const PEER_RST_PER_SECOND = 33;
