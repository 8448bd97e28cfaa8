/**
 * Request/response between the benchmark's processes over the fork IPC
 * channel: the orchestrator calls, each child serves named operations. One
 * request per call id; a call that gets no answer in `timeoutMs` fails, so a
 * stuck child cannot hang the benchmark.
 */
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** Epoch milliseconds with sub-millisecond resolution: comparable across the benchmark's processes. */
export const clock = (): number => performance.timeOrigin + performance.now();

/** CPU time this process has used, user and system. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

interface Request {
  id: number;
  op: string;
  arg: unknown;
}

type Response = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export type Handlers = Record<string, (arg: never) => unknown>;

/** In a child: answers the orchestrator's requests with `handlers`. */
export function serve(handlers: Handlers): void {
  process.on('message', (msg: Request) => {
    const reply = (r: Response) => process.send?.(r);
    const fn = handlers[msg.op] as ((arg: unknown) => unknown) | undefined;
    if (!fn) return reply({ id: msg.id, ok: false, error: `unknown operation ${msg.op}` });
    Promise.resolve()
      .then(() => fn(msg.arg))
      .then(
        (value) => reply({ id: msg.id, ok: true, value }),
        (err: unknown) => reply({ id: msg.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
}

export interface Caller {
  call<T>(op: string, arg?: unknown, timeoutMs?: number): Promise<T>;
}

/** In the orchestrator: calls a forked child's operations. */
export function caller(child: ChildProcess, name: string): Caller {
  let nextId = 0;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  child.on('message', (r: Response) => {
    const w = waiting.get(r.id);
    if (!w) return;
    waiting.delete(r.id);
    if (r.ok) w.resolve(r.value);
    else w.reject(new Error(`${name}: ${r.error}`));
  });
  child.on('exit', (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`${name} exited (${signal ?? code}) before answering`));
    waiting.clear();
  });
  return {
    call: <T>(op: string, arg?: unknown, timeoutMs = 60_000) =>
      new Promise<T>((resolve, reject) => {
        const id = ++nextId;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`${name}: ${op} got no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ id, op, arg } satisfies Request);
      }),
  };
}
