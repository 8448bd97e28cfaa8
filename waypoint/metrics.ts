import { Counter, Histogram, type Registry } from 'prom-client';
import { TCP_LABELS, type TcpLabels } from '../node-agent/admin/metrics.js';

/** Request metrics' labels: the TCP ones (SPEC "Metrics") and the response code. */
export const REQUEST_LABELS = [...TCP_LABELS, 'response_code'] as const;
export type RequestLabels = TcpLabels & { response_code: string };

const SIZE_BUCKETS = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];
const DURATION_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];

/** What a waypoint counts per HTTP request (Istio's request metrics, `ambit_` prefix). */
export class RequestMetrics {
  readonly requests: Counter<(typeof REQUEST_LABELS)[number]>;
  readonly duration: Histogram<(typeof REQUEST_LABELS)[number]>;
  readonly requestBytes: Histogram<(typeof REQUEST_LABELS)[number]>;
  readonly responseBytes: Histogram<(typeof REQUEST_LABELS)[number]>;

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = REQUEST_LABELS;
    this.requests = new Counter({ name: 'ambit_requests_total', help: 'HTTP requests the waypoint handled', labelNames, registers });
    this.duration = new Histogram({ name: 'ambit_request_duration_milliseconds', help: 'From the request head to the end of the response', labelNames, buckets: DURATION_BUCKETS, registers });
    this.requestBytes = new Histogram({ name: 'ambit_request_bytes', help: 'Request body bytes', labelNames, buckets: SIZE_BUCKETS, registers });
    this.responseBytes = new Histogram({ name: 'ambit_response_bytes', help: 'Response body bytes', labelNames, buckets: SIZE_BUCKETS, registers });
  }

  record(labels: RequestLabels, durationMs: number, requestBytes: number, responseBytes: number): void {
    this.requests.inc(labels);
    this.duration.observe(labels, durationMs);
    this.requestBytes.observe(labels, requestBytes);
    this.responseBytes.observe(labels, responseBytes);
  }
}
