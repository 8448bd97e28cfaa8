import type { Readable, Writable } from 'node:stream';

/**
 * A request body read once from the client and fed to every try and mirror
 * of the request. It keeps a copy while the body is small (up to `limit`
 * bytes, as Envoy buffers a request for retries up to its buffer limit): a
 * retry or a mirror attached later replays the copy, then follows the live
 * rest. A body that outgrows the limit is streamed only: it can no longer be
 * replayed, so the request is not retried once it has started, and mirrors
 * of it are dropped. The client is read as fast as the current try takes it
 * (its backpressure), never faster because of a mirror.
 */
export class RequestBody {
  private readonly copy: Buffer[] = [];
  private copied = 0;
  private overflowed = false;
  private ended = false;
  private failed = false;
  /** The try the client's pace follows. */
  private main: Writable | undefined;
  /** Mirrors: fed what comes, never waited for. */
  private readonly shadows = new Set<Writable>();
  /** Bytes read from the client. */
  bytes = 0;

  constructor(
    private readonly source: Readable,
    private readonly limit: number,
  ) {
    source.on('data', (chunk: Buffer) => this.chunk(chunk));
    source.on('end', () => {
      this.ended = true;
      this.main?.end();
      for (const s of this.shadows) s.end();
    });
    // The client went away mid-body: nothing whole can be sent on.
    source.on('error', () => this.abandon());
    source.on('aborted', () => this.abandon());
    source.pause();
  }

  /** Whether a new try can still be given the whole body. */
  get replayable(): boolean {
    return !this.overflowed && !this.failed;
  }

  private chunk(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (!this.overflowed) {
      this.copied += chunk.length;
      if (this.copied > this.limit) {
        this.overflowed = true;
        this.copy.length = 0;
        for (const s of this.shadows) s.destroy();
        this.shadows.clear();
      } else this.copy.push(chunk);
    }
    for (const s of this.shadows) s.write(chunk);
    if (this.main && !this.main.write(chunk)) {
      this.source.pause();
      this.main.once('drain', () => this.source.resume());
    }
  }

  private abandon(): void {
    if (this.ended) return;
    this.failed = true;
    this.main?.destroy();
    for (const s of this.shadows) s.destroy();
    this.shadows.clear();
  }

  /** Sends the body to the try `sink` (replacing the previous try), from the start. False when it cannot be replayed. */
  feed(sink: Writable): boolean {
    if (!this.replayable && this.main !== undefined) return false;
    this.main = sink;
    sink.on('error', () => undefined); // the try reports its own failure
    for (const c of this.copy) sink.write(c);
    if (this.ended) sink.end();
    else this.source.resume();
    return true;
  }

  /** Sends the body to a mirror, from the start; false when it cannot (grown too large, or the client left). */
  shadow(sink: Writable): boolean {
    if (!this.replayable) return false;
    sink.on('error', () => undefined);
    for (const c of this.copy) sink.write(c);
    if (this.ended) sink.end();
    else this.shadows.add(sink);
    return true;
  }
}
