import { AmbitError } from './errors.js';
import { logger } from './log.js';

/**
 * Runs a long-lived component process: starts it, stops it gracefully on
 * SIGTERM or SIGINT (once), and on a failed start logs one fatal line with
 * the error code and exits non-zero.
 */
export async function runComponent(name: string, start: () => Promise<{ stop(): Promise<void> }>): Promise<void> {
  const log = logger(name);
  try {
    const running = await start();
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
