/** The controller's HTTP admin port: health, readiness, metrics, debug JSON. */
export { startAdmin, type AdminDeps } from './server.js';
export { ControllerMetrics } from './metrics.js';
