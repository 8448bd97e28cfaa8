import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AmbitError } from '../lib/errors.js';
import { logger } from '../lib/log.js';
import { startAgent } from './app.js';
import { loadAgentConfig } from './config.js';

const log = logger('node-agent');
const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..');

try {
  const agent = await startAgent(loadAgentConfig(process.env, repoRoot));
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    agent.stop().then(
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
  log.fatal({ code, err: err instanceof Error ? err.message : String(err) }, 'node agent failed to start');
  // Give pino's async destination a moment to flush before exiting.
  setTimeout(() => process.exit(1), 50);
}
