/** The web dashboard on the controller's admin port: pages, JSON API, the service graph from the proxies' metrics, and the operator's canary write. */
export { Dashboard, DEFAULT_WINDOW_S, PROXY_ADMIN_PORT, WINDOWS_S, type DashboardOptions, type ProxyStatus } from './server.js';
export { apiServerTarget, forwardRoutePatch, parseWeightChange, weightPatch, type ApiServerTarget } from './canary.js';
export { buildGraph, GRAPH_METRICS, serviceNode, type GraphEdge, type GraphNode, type ServiceGraph } from './graph.js';
export { parsePromText, type Sample } from './prom-text.js';
export { Scraper, type ScrapeTarget } from './scraper.js';
export { histogramQuantile, MetricWindow, type SeriesRate } from './window.js';
