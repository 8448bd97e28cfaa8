/**
 * Joins an HTTP/2 tunnel stream and a TCP socket: bytes both ways with backpressure
 * (`pipe`), half-close in both directions (stream END_STREAM <-> socket FIN), and errors
 * turned into resets (a socket error resets the stream with CONNECT_ERROR, as RFC 9113
 * 8.5 says; a stream reset destroys the socket).
 */
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';

/** What crossed a spliced tunnel, reported once both sides have closed. */
export interface SpliceResult {
  /** Bytes read from the tunnel stream and written to the socket. */
  readonly streamToSocket: number;
  /** Bytes read from the socket and written to the tunnel stream. */
  readonly socketToStream: number;
  /** The first error on either side, if the tunnel did not end cleanly. */
  readonly error: Error | undefined;
}

const CONNECT_ERROR = http2.constants.NGHTTP2_CONNECT_ERROR;

/** A resettable HTTP/2 stream (`Http2Stream.close(code)`); plain Duplexes are destroyed instead. */
function reset(stream: Duplex): void {
  const h2 = stream as Duplex & { close?: (code?: number) => void; closed?: boolean };
  if (typeof h2.close === 'function') {
    if (!h2.closed && !h2.destroyed) h2.close(CONNECT_ERROR);
  } else if (!stream.destroyed) {
    stream.destroy();
  }
}

/**
 * Pipes `stream` <-> `socket` until both have closed. `socket` should have been opened with
 * `allowHalfOpen: true` so that a FIN from one side only ends that direction.
 */
export function splice(stream: Duplex, socket: Duplex): Promise<SpliceResult> {
  let streamToSocket = 0;
  let socketToStream = 0;
  let error: Error | undefined;
  let streamEnded = false; // peer sent END_STREAM
  let socketEnded = false; // socket got FIN
  let streamClosed = false;
  let socketClosed = false;

  return new Promise((resolve) => {
    const done = (): void => {
      if (streamClosed && socketClosed) resolve({ streamToSocket, socketToStream, error });
    };
    stream.on('data', (c: Buffer) => (streamToSocket += c.length));
    socket.on('data', (c: Buffer) => (socketToStream += c.length));
    stream.on('end', () => (streamEnded = true));
    socket.on('end', () => (socketEnded = true));
    stream.pipe(socket);
    socket.pipe(stream);

    stream.on('error', (e: Error) => {
      error ??= e;
      socket.destroy();
    });
    socket.on('error', (e: Error) => {
      error ??= e;
      reset(stream);
    });
    stream.on('close', () => {
      streamClosed = true;
      const rst = (stream as { rstCode?: number }).rstCode;
      const clean = streamEnded && (rst === undefined || rst === http2.constants.NGHTTP2_NO_ERROR);
      // Clean: the socket was already ended by pipe and flushes on its own. Otherwise abort it.
      if (!clean) {
        error ??= new Error(`tunnel stream closed before its end (RST code ${rst ?? 'none'})`);
        socket.destroy();
      }
      done();
    });
    socket.on('close', () => {
      socketClosed = true;
      if (!socketEnded) {
        error ??= new Error('socket closed before its end');
        reset(stream);
      }
      done();
    });
  });
}
