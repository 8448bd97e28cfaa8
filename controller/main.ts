import { runComponent } from '../lib/component.js';
import { startController } from './app.js';
import { loadControllerConfig } from './config.js';

await runComponent('controller', () => startController(loadControllerConfig(process.env)));
