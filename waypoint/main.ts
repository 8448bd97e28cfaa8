import { runComponent } from '../lib/component.js';
import { startWaypoint } from './app.js';
import { loadWaypointConfig } from './config.js';

await runComponent('waypoint', () => startWaypoint(loadWaypointConfig(process.env)));
