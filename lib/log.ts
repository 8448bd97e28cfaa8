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

const root: Logger = pino(
  {
    level: process.env.AMBIT_LOG_LEVEL ?? (traced.size > 0 ? 'debug' : 'info'),
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  },
  pino.destination({ fd: 2, sync: false }),
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
