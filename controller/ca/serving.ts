import type * as grpc from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { issueServingCertificate, renewalTime, type IssuedServingCertificate, type MeshCa } from '../../lib/identity/index.js';
import type { Logger } from '../../lib/log.js';
import { realTimers, type Timers } from '../../lib/xds/timers.js';
import type { ControllerMetrics } from '../admin/metrics.js';

/**
 * The controller's own certificate on 15010, issued by its mesh CA (the SPIFFE ID of its
 * service account and the DNS names of its Service), short-lived and renewed at half its
 * life (with jitter, as workload certificates are). It is a gRPC certificate provider:
 * the server swaps each renewal into its TLS context, so new handshakes get the new
 * certificate while open agent streams keep the connection they have.
 */

export interface ServingCertificateOptions {
  ca: MeshCa;
  spiffeId: string;
  dnsNames: readonly string[];
  ttlMs: number;
  log: Logger;
  metrics?: ControllerMetrics;
  now?: () => number;
  timers?: Timers;
  random?: () => number;
}

/** What `/debug` and tests see of the certificate in force. */
export interface ServingCertificateState extends IssuedServingCertificate {
  serial: string;
  issuedAt: number;
  renewAt: number;
}

/** A Node timer cannot wait longer than 2^31-1 ms (~24.8 days); a longer wait is taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** If renewing fails (only an expired CA can do that), try again after this long. */
const RETRY_MS = 60_000;

export class ServingCertificate implements grpc.experimental.CertificateProvider {
  private readonly listeners = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  private readonly now: () => number;
  private readonly timers: Timers;
  private state: ServingCertificateState;
  private timer: unknown;
  private closed = false;

  constructor(private readonly o: ServingCertificateOptions) {
    this.now = o.now ?? Date.now;
    this.timers = o.timers ?? realTimers;
    this.state = this.issue();
    this.schedule();
  }

  current(): ServingCertificateState {
    return this.state;
  }

  addIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.listeners.add(listener);
    // On the next tick, as grpc-js's own providers do: its server registers before it watches.
    process.nextTick(() => this.listeners.has(listener) && listener(this.update()));
  }

  removeIdentityCertificateListener(listener: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.listeners.delete(listener);
  }

  /** The controller asks no client certificate (agents authenticate with tokens): no CA to provide. */
  addCaCertificateListener(): void {}
  removeCaCertificateListener(): void {}

  /** Issues a new certificate now and hands it to the server (the timer calls this). */
  renew(): void {
    this.state = this.issue();
    const update = this.update();
    for (const l of this.listeners) l(update);
    this.schedule();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
  }

  private issue(): ServingCertificateState {
    const issuedAt = this.now();
    const cert = issueServingCertificate(this.o.ca, { spiffeId: this.o.spiffeId, dnsNames: this.o.dnsNames, ttlMs: this.o.ttlMs, now: () => issuedAt });
    const renewAt = renewalTime(issuedAt, cert.notAfter, this.o.random ? { random: this.o.random } : {});
    const serial = new X509Certificate(cert.certChainPem).serialNumber;
    this.o.metrics?.servingCertsIssued.inc();
    this.o.log.info(
      { identity: this.o.spiffeId, dnsNames: this.o.dnsNames, serial, notAfter: new Date(cert.notAfter).toISOString(), renewAt: new Date(renewAt).toISOString() },
      'serving certificate issued',
    );
    return { ...cert, serial, issuedAt, renewAt };
  }

  private update(): grpc.experimental.IdentityCertificateUpdate {
    return { certificate: Buffer.from(this.state.certChainPem), privateKey: Buffer.from(this.state.keyPem) };
  }

  private schedule(at = this.state.renewAt): void {
    if (this.closed) return;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(
      () => {
        this.timer = undefined;
        if (this.now() < at) return this.schedule(at);
        try {
          this.renew();
        } catch (err) {
          this.o.log.error({ code: (err as { code?: string }).code, err: (err as Error).message }, 'renewing the serving certificate failed; retrying in a minute');
          this.schedule(this.now() + RETRY_MS);
        }
      },
      Math.min(Math.max(0, at - this.now()), MAX_TIMER_MS),
    );
  }
}
