import { Duplex } from 'node:stream';

/**
 * Two connected in-process streams: what is written to one is read from the
 * other, `end()` on one ends the other's readable side (half-close), and
 * destroying one destroys the other. The waypoint hands one end to the HBONE
 * server, which splices it with the tunnel as it would a socket, and reads
 * the other end itself: as HTTP, or as opaque bytes.
 */
export function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  /** Per end: the write waiting for that end's reader to want more (backpressure). */
  const waiting: ((() => void) | undefined)[] = [undefined, undefined];
  const side = (me: number): Duplex => {
    const peer = 1 - me;
    return new Duplex({
      allowHalfOpen: true,
      read() {
        const resume = waiting[me];
        waiting[me] = undefined;
        resume?.();
      },
      write(chunk: Buffer, _enc, done) {
        const other = ends[peer]!;
        if (other.destroyed) return done(new Error('the other end is gone'));
        if (other.push(chunk)) done();
        else waiting[peer] = () => done();
      },
      final(done) {
        ends[peer]!.push(null);
        done();
      },
      destroy(err, done) {
        const other = ends[peer]!;
        if (!other.destroyed) other.destroy(err ?? undefined);
        done(err);
      },
    });
  };
  ends.push(side(0), side(1));
  return [ends[0]!, ends[1]!];
}
