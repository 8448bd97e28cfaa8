import { createCsr, generateWorkloadKey, WorkloadCertificate } from '../../lib/identity/index.js';
import type { Logger } from '../../lib/log.js';
import type { MeshCaClient } from '../../lib/xds/index.js';

export interface CertManagerOptions {
  ca: MeshCaClient;
  log: Logger;
  now?: () => number;
  /** How often rotation is checked (ms). */
  checkEveryMs?: number;
}

export interface CertSummary {
  identity: string;
  notBefore: string;
  notAfter: string;
  rotateAt: string;
}

/**
 * The certificates of the workloads on this node. Keys are generated here
 * and never leave the process; the controller only sees CSRs. A certificate
 * is fetched on first use (or ahead, for pods that join), shared by
 * concurrent callers, and replaced before expiry. Replacing it never touches
 * open connections: they keep the TLS session they made.
 */
export class CertManager {
  private readonly certs = new Map<string, WorkloadCertificate>();
  private readonly inflight = new Map<string, Promise<WorkloadCertificate>>();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  private rootPem: string | undefined;

  constructor(private readonly opts: CertManagerOptions) {
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.rotateDue(), opts.checkEveryMs ?? 10_000);
    this.timer.unref();
  }

  /** The current certificate for an identity, fetching or renewing it if needed. */
  async get(identity: string): Promise<WorkloadCertificate> {
    const have = this.certs.get(identity);
    if (have && !have.isExpired(this.now())) {
      if (have.shouldRotate(this.now())) void this.fetch(identity).catch(() => undefined);
      return have;
    }
    return this.fetch(identity);
  }

  /** Synchronous read for TLS callbacks; undefined until fetched. */
  current(identity: string): WorkloadCertificate | undefined {
    return this.certs.get(identity);
  }

  /** Keeps certificates for exactly these identities: fetches new ones, forgets the rest. */
  retain(identities: Iterable<string>): void {
    const keep = new Set(identities);
    for (const id of this.certs.keys()) if (!keep.has(id)) this.certs.delete(id);
    for (const id of keep) if (!this.certs.has(id)) void this.fetch(id).catch(() => undefined);
  }

  get root(): string | undefined {
    return this.rootPem;
  }

  private fetch(identity: string): Promise<WorkloadCertificate> {
    let p = this.inflight.get(identity);
    if (p) return p;
    p = this.request(identity).finally(() => this.inflight.delete(identity));
    this.inflight.set(identity, p);
    return p;
  }

  private async request(identity: string): Promise<WorkloadCertificate> {
    const key = generateWorkloadKey();
    const res = await this.opts.ca.sign({ csrPem: createCsr(key, identity), spiffeId: identity });
    if (!res.ok) {
      this.opts.log.warn({ identity, code: res.error.codeName, err: res.error.message }, 'certificate request refused');
      throw new Error(`certificate for ${identity} refused: ${res.error.codeName}: ${res.error.message}`);
    }
    const cert = WorkloadCertificate.from({ keyPem: key.keyPem, certChainPem: res.value.certChainPem, rootPem: res.value.rootPem });
    if (!cert.ok) throw cert.error;
    this.certs.set(identity, cert.value);
    this.rootPem = res.value.rootPem;
    this.opts.log.info({ identity, notAfter: new Date(cert.value.notAfter).toISOString() }, 'workload certificate issued');
    return cert.value;
  }

  private rotateDue(): void {
    for (const [id, cert] of this.certs) {
      if (cert.shouldRotate(this.now())) void this.fetch(id).catch(() => undefined);
    }
  }

  summary(): CertSummary[] {
    return [...this.certs.entries()].map(([identity, c]) => ({
      identity,
      notBefore: new Date(c.notBefore).toISOString(),
      notAfter: new Date(c.notAfter).toISOString(),
      rotateAt: new Date(c.rotateAt()).toISOString(),
    }));
  }

  close(): void {
    clearInterval(this.timer);
  }
}
