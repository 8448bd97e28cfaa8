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

  /**
   * Counts one request under the label set `key` names; `labels` builds that set the first
   * time (prom-client hashes a label object on every call: the resolved series are kept
   * instead, up to MAX_SERIES, then rebuilt).
   */
  record(key: string, labels: () => RequestLabels, durationMs: number, requestBytes: number, responseBytes: number): void {
    let s = this.series.get(key);
    if (!s) {
      if (this.series.size >= MAX_SERIES) this.series.clear();
      const l = labels();
      s = { requests: this.requests.labels(l), duration: this.duration.labels(l), requestBytes: this.requestBytes.labels(l), responseBytes: this.responseBytes.labels(l) };
      this.series.set(key, s);
    }
    s.requests.inc();
    s.duration.observe(durationMs);
    s.requestBytes.observe(requestBytes);
    s.responseBytes.observe(responseBytes);
  }

  private readonly series = new Map<string, Series>();
}

/** The four metrics of one label set, resolved. */
interface Series {
  requests: { inc(): void };
  duration: { observe(v: number): void };
  requestBytes: { observe(v: number): void };
  responseBytes: { observe(v: number): void };
}

/** Label sets kept resolved at once (each is a few objects). */
const MAX_SERIES = 10_000;
