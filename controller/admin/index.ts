/** The controller's HTTP admin port: health, readiness, metrics, debug JSON. */
export { ControllerMetrics } from './metrics.js';
