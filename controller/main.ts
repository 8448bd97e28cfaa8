import { AmbitError } from '../lib/errors.js';
import { logger } from '../lib/log.js';
import { startController } from './app.js';
import { loadControllerConfig } from './config.js';

const log = logger('controller');

try {
  const controller = await startController(loadControllerConfig(process.env));
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    controller.stop().then(
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
  log.fatal({ code, err: err instanceof Error ? err.message : String(err) }, 'controller failed to start');
  // Give pino's async destination a moment to flush before exiting.
  setTimeout(() => process.exit(1), 50);
}
