import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runComponent } from '../lib/component.js';
import { startAgent } from './app.js';
import { loadAgentConfig } from './config.js';

const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..');

await runComponent('node-agent', () => startAgent(loadAgentConfig(process.env, repoRoot)));
