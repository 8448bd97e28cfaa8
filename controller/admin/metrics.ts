import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The controller's metrics, all in one registry this process owns. */
export class ControllerMetrics {
  readonly registry = new Registry();
  readonly connectedAgents: Gauge;
  readonly pushes: Counter<'type'>;
  readonly sentBytes: Counter<'type'>;
  readonly acks: Counter<'type'>;
  readonly nacks: Counter<'type'>;
  /** Push sent -> ACK/NACK received. */
  readonly pushAckSeconds: Histogram<'type' | 'result'>;
  /** Model change -> push sent. */
  readonly convergenceSeconds: Histogram<'type'>;
  readonly agentRefusals: Counter<'reason'>;
  readonly csrSigned: Counter;
  readonly csrRefused: Counter<'reason'>;
  readonly servingCertsIssued: Counter;
  readonly modelResources: Gauge<'type'>;
  readonly modelObjects: Gauge<'kind'>;
  readonly leader: Gauge;
  /** Every Event the controller recorded, by what became of it (controller/events/writer.ts, EventResult). */
  readonly events: Counter<'type' | 'reason' | 'result'>;

  constructor(
    sizes: { resources: () => Record<string, number>; objects: () => Record<string, number> } = { resources: () => ({}), objects: () => ({}) },
    /** Whether this replica writes now (holds the Lease; without election, whether it writes at all). */
    leading: () => boolean = () => false,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'ambit_controller_' });
    const registers = [this.registry];
    this.connectedAgents = new Gauge({ name: 'ambit_xds_connected_agents', help: 'Node agents with an open config stream', registers });
    this.pushes = new Counter({ name: 'ambit_xds_pushes_total', help: 'Config messages sent to agents', labelNames: ['type'], registers });
    this.sentBytes = new Counter({ name: 'ambit_xds_sent_bytes_total', help: 'Bytes of config messages sent to agents (protobuf, before gRPC and TLS framing)', labelNames: ['type'], registers });
    this.acks = new Counter({ name: 'ambit_xds_acks_total', help: 'Config messages agents applied', labelNames: ['type'], registers });
    this.nacks = new Counter({ name: 'ambit_xds_nacks_total', help: 'Config messages agents rejected', labelNames: ['type'], registers });
    this.pushAckSeconds = new Histogram({
      name: 'ambit_xds_push_ack_seconds',
      help: 'Time from sending a config message to its ACK or NACK',
      labelNames: ['type', 'result'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
    this.convergenceSeconds = new Histogram({
      name: 'ambit_xds_convergence_seconds',
      help: 'Time from a model change to the push that carries it (debounce included)',
      labelNames: ['type'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    this.agentRefusals = new Counter({ name: 'ambit_xds_agent_refusals_total', help: 'Agent connections refused (authentication, wrong node, protocol)', labelNames: ['reason'], registers });
    this.csrSigned = new Counter({ name: 'ambit_ca_csr_signed_total', help: 'Workload certificates issued', registers });
    this.csrRefused = new Counter({ name: 'ambit_ca_csr_refused_total', help: 'CSRs refused', labelNames: ['reason'], registers });
    this.servingCertsIssued = new Counter({ name: 'ambit_ca_serving_certificates_issued_total', help: "The controller's own certificates on 15010 issued (one at start, then one per renewal)", registers });
    this.modelResources = new Gauge({
      name: 'ambit_model_resources',
      help: 'Resources the controller pushes, by type',
      labelNames: ['type'],
      registers,
      collect() {
        for (const [type, n] of Object.entries(sizes.resources())) this.set({ type }, n);
      },
    });
    this.leader = new Gauge({
      name: 'ambit_controller_leader',
      help: 'Whether this controller replica is the leader (1), the one that writes status and runs Waypoints; every replica serves agents',
      registers,
      collect() {
        this.set(leading() ? 1 : 0);
      },
    });
    this.events = new Counter({
      name: 'ambit_controller_events_total',
      help: 'Kubernetes Events the controller recorded, by type, reason and result: created, aggregated (counted in an earlier Event\'s series), rate_limited, not_leader, dropped, failed',
      labelNames: ['type', 'reason', 'result'],
      registers,
    });
    this.modelObjects = new Gauge({
      name: 'ambit_model_objects',
      help: 'Kubernetes objects in the model, by kind (rejected* are policies failing validation)',
      labelNames: ['kind'],
      registers,
      collect() {
        for (const [kind, n] of Object.entries(sizes.objects())) this.set({ kind }, n);
      },
    });
  }
}
