import { Counter, Registry } from 'prom-client';

/** Istio-compatible label set (SPEC "Metrics"). */
export const TCP_LABELS = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'destination_workload',
  'destination_workload_namespace',
  'destination_service',
  'destination_principal',
  'connection_security_policy',
  'response_flags',
] as const;

export type TcpLabels = Record<(typeof TCP_LABELS)[number], string>;

/**
 * The data path's metrics: one registry per worker thread, summed by the main
 * thread on every scrape (see dataplane/pool.ts), which adds the process's own.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly opened: Counter<(typeof TCP_LABELS)[number]>;
  readonly closed: Counter<(typeof TCP_LABELS)[number]>;
  readonly sent: Counter<(typeof TCP_LABELS)[number]>;
  readonly received: Counter<(typeof TCP_LABELS)[number]>;
  readonly redirectMisses: Counter<string>;
  readonly sourceRefused: Counter<'source_principal'>;

  constructor() {
    const counter = (name: string, help: string) =>
      new Counter({ name, help, labelNames: TCP_LABELS, registers: [this.registry] });
    this.opened = counter('ambit_tcp_connections_opened_total', 'TCP connections opened through the agent');
    this.closed = counter('ambit_tcp_connections_closed_total', 'TCP connections closed through the agent');
    this.sent = counter('ambit_tcp_sent_bytes_total', 'Bytes sent to the client (response direction)');
    this.received = counter('ambit_tcp_received_bytes_total', 'Bytes received from the client (request direction)');
    this.redirectMisses = new Counter({
      name: 'ambit_redirect_original_dst_missing_total',
      help: 'Connections on the outbound port with no recorded original destination',
      registers: [this.registry],
    });
    this.sourceRefused = new Counter({
      name: 'ambit_source_address_refused_total',
      help: 'HBONE tunnels refused because the peer claimed a source address that is not its own workload',
      labelNames: ['source_principal'],
      registers: [this.registry],
    });
  }
}
