import { isMainThread } from 'node:worker_threads';
import { pino, type Logger } from 'pino';

/**
 * Structured JSON logging (pino) to stderr. Every component names itself;
 * subsystems take a child logger. `AMBIT_TRACE=bpf,proxy` (or `all`) turns on
 * debug-level tracing for the named subsystems only.
 */
const traced = new Set(
  (process.env.AMBIT_TRACE ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/**
 * Lines are written in batches of 4 KiB, and at least every second: the node
 * agent logs every connection it carries, and one write per line cost 10-15 %
 * of a data-path worker's CPU (profiled under 500 new connections/s). What is
 * still buffered is written out when the thread exits (pino does that for the
 * main thread; a worker needs it said).
 */
const destination = pino.destination({ fd: 2, sync: false, minLength: 4096 });
setInterval(() => destination.flush(), 1000).unref();
if (!isMainThread) process.once('exit', () => destination.flushSync());

const root: Logger = pino(
  {
    level: process.env.AMBIT_LOG_LEVEL ?? (traced.size > 0 ? 'debug' : 'info'),
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  },
  destination,
);

export type { Logger };

/** A logger for one subsystem; debug lines appear only when it is traced. */
export function logger(component: string, subsystem?: string): Logger {
  const name = subsystem ? `${component}.${subsystem}` : component;
  const child = root.child({ component: name });
  const on = traced.has('all') || traced.has(name) || (subsystem !== undefined && traced.has(subsystem));
  if (!on && child.level === 'debug') child.level = 'info';
  return child;
}
