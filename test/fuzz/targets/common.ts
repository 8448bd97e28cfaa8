import net from 'node:net';
import { seededRandom } from '../../../lib/testing/seeded-random.js';

/**
 * What every fuzz target shares: a seeded source of malformed input (a failing
 * case reproduces from its seed), a bounded runner, and one JSON line of
 * results. Targets are scripts, not tests: run/measure them with `npm run fuzz`.
 */
export class Junk {
  readonly rand: () => number;

  constructor(seed: number) {
    this.rand = seededRandom(seed);
  }

  int(maxExclusive: number): number {
    return Math.floor(this.rand() * maxExclusive);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(max: number): Buffer {
    const n = this.int(max + 1);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }

  /** `base` with a few bytes flipped, cut short or extended: almost valid, the nastiest kind. */
  mutate(base: Buffer): Buffer {
    const b = Buffer.from(base);
    const edits = 1 + this.int(8);
    for (let i = 0; i < edits && b.length > 0; i++) b[this.int(b.length)] = this.int(256);
    switch (this.int(4)) {
      case 0:
        return b.subarray(0, this.int(b.length + 1));
      case 1:
        return Buffer.concat([b, this.bytes(512)]);
      default:
        return b;
    }
  }

  /** Printable, hostile strings for headers, paths and names. */
  text(max: number): string {
    const pieces = ['%00', '../', '\u0000', '\r\n', '🙂', ':', '[', ']', '@', '%', '/', '.', ' ', '*', 'a'.repeat(this.int(5000)), String(this.int(1e9)), '::1', '10.0.0.1', '255.255.255.255', '-1', '65536', '0x10'];
    let s = '';
    const n = 1 + this.int(max);
    for (let i = 0; i < n; i++) s += this.rand() < 0.5 ? this.pick(pieces) : String.fromCharCode(32 + this.int(95));
    return s;
  }
}

export interface Tally {
  target: string;
  inputs: number;
  connections: number;
  /** How the server reacted: closed, reset, answered, timeout... */
  outcomes: Record<string, number>;
  seconds: number;
}

export function tally(target: string): Tally & { count(outcome: string): void; done(started: number): Tally } {
  const t: Tally = { target, inputs: 0, connections: 0, outcomes: {}, seconds: 0 };
  return Object.assign(t, {
    count: (outcome: string) => void (t.outcomes[outcome] = (t.outcomes[outcome] ?? 0) + 1),
    done: (started: number) => ({ target: t.target, inputs: t.inputs, connections: t.connections, outcomes: t.outcomes, seconds: Math.round((Date.now() - started) / 100) / 10 }),
  });
}

/** Runs `one` until `until()` says stop, `concurrency` at a time, for at most `maxMs`. */
export async function pool(concurrency: number, maxMs: number, until: () => boolean, one: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + maxMs;
  const worker = async () => {
    while (!until() && Date.now() < deadline) await one();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Connects, lets `act` write, and waits for the server to close, reset or
 * stay quiet (`quietMs`), then destroys the socket. Resolves with what happened.
 */
export function exchange(host: string, port: number, act: (s: net.Socket) => void, quietMs = 300): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let outcome = 'timeout';
    let answered = false;
    const finish = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(answered && outcome !== 'reset' ? `answered, then ${outcome}` : outcome);
    };
    const timer = setTimeout(finish, quietMs + 2000);
    s.on('connect', () => {
      act(s);
      clearTimeout(timer);
      setTimeout(finish, quietMs).unref();
    });
    s.on('data', () => (answered = true));
    s.on('end', () => (outcome = 'closed'));
    s.on('error', (e: Error & { code?: string }) => {
      outcome = e.code === 'ECONNRESET' ? 'reset' : (e.code ?? 'error');
      finish();
    });
    s.on('close', () => {
      if (outcome === 'timeout') outcome = 'closed';
      finish();
    });
  });
}

export function args(usage: string): { host: string; port: number; count: number; seed: number; extra: string[] } {
  const [target, count, seed, ...extra] = process.argv.slice(2);
  const m = /^(.+):(\d+)$/.exec(target ?? '');
  if (!m || !count) {
    process.stderr.write(`usage: ${usage}\n`);
    process.exit(2);
  }
  return { host: m[1]!, port: Number(m[2]), count: Number(count), seed: Number(seed ?? 1), extra };
}
