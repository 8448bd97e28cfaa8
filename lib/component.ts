import { AmbitError } from './errors.js';
import { logger } from './log.js';
import { reclaimWhenQuiet } from './reclaim.js';

/**
 * Runs a long-lived component process: starts it, stops it gracefully on
 * SIGTERM or SIGINT (once), and on a failed start logs one fatal line with
 * the error code and exits non-zero.
 *
 * The last line of defence, for bugs that slip past every handler: a promise
 * rejection nobody handled is logged and the process keeps serving (one
 * failed operation must not drop every connection of the node); an uncaught
 * exception leaves state that cannot be trusted, so it is logged and the
 * process exits for its supervisor to restart (the kernel keeps capture and
 * eBPF state across that).
 *
 * It also gives memory back after bursts (reclaim.ts); worker threads start
 * their own.
 */
export async function runComponent(name: string, start: () => Promise<{ stop(): Promise<void> }>): Promise<void> {
  const log = logger(name);
  process.on('unhandledRejection', (reason) => {
    log.error({ code: 'internal', err: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason) }, 'bug: a rejected promise nobody handled; still serving');
  });
  process.on('uncaughtException', (err) => {
    log.fatal({ code: 'internal', err: err.stack ?? err.message }, 'bug: an uncaught exception; exiting to be restarted clean');
    setTimeout(() => process.exit(70), 50);
  });
  try {
    const running = await start();
    reclaimWhenQuiet();
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      running.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  } catch (err) {
    const code = err instanceof AmbitError ? err.code : 'internal';
    log.fatal({ code, err: err instanceof Error ? err.message : String(err) }, `${name} failed to start`);
    // Give pino's async destination a moment to flush before exiting.
    setTimeout(() => process.exit(1), 50);
  }
}
