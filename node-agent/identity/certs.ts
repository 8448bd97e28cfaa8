import { AmbitError } from '../../lib/errors.js';
import { WorkloadCertificate, createCsr, generateWorkloadKey, type TrustBundle, type TrustSource } from '../../lib/identity/index.js';
import { exponentialBackoff, type Backoff } from '../../lib/backoff.js';
import type { Logger } from '../../lib/log.js';
import type { MeshCaClient } from '../../lib/xds/index.js';
import { realTimers, type Timers } from '../../lib/xds/timers.js';

export interface CertManagerOptions {
  ca: MeshCaClient;
  /** The roots read out of band: every certificate must chain to them, and peers are verified against them. */
  trust: TrustSource;
  log: Logger;
  now?: () => number;
  timers?: Timers;
  /** [0, 1) source of the renewal jitter. */
  random?: () => number;
  /** Backoff after a failed request, per identity (default 1 s doubling to 1 min, jittered). */
  backoff?: () => Backoff;
}

export interface CertSummary {
  identity: string;
  notBefore: string | undefined;
  notAfter: string | undefined;
  issuedAt: string | undefined;
  rotateAt: string | undefined;
  /** CSRs sent for this identity since the agent started. */
  requests: number;
  lastError: string | undefined;
}

/** Everything the manager knows of one identity. */
interface Slot {
  cert: WorkloadCertificate | undefined;
  inflight: Promise<WorkloadCertificate> | undefined;
  timer: unknown;
  backoff: Backoff;
  /** The last request failed: no new one before `retryAt`. */
  failure: { error: Error; retryAt: number } | undefined;
  requests: number;
}

/** A Node timer cannot wait longer than 2^31-1 ms (~24.8 days); a longer wait is taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The certificates of the workloads on this node. Keys are generated here and never leave
 * the process; the controller only sees CSRs. A certificate is fetched on first use (or
 * ahead, for pods that join), shared by concurrent callers, and renewed by a timer at the
 * time drawn when it arrived (half its life from issue, with jitter): never because a
 * connection asked for it. A failed request backs off; callers meanwhile get the last
 * failure at once instead of a new CSR. The answer is checked against the trust bundle read
 * out of band; the root the controller sends along is never trusted. Replacing a
 * certificate never touches open connections: they keep the TLS session they made.
 */
export class CertManager {
  private readonly slots = new Map<string, Slot>();
  private readonly listeners = new Set<(identity: string, cert: WorkloadCertificate | undefined) => void>();
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: CertManagerOptions) {
    this.now = opts.now ?? Date.now;
    this.timers = opts.timers ?? realTimers;
    this.unsubscribe = opts.trust.onChange((b) => this.rootsChanged(b));
  }

  /** The current certificate for an identity, fetching it if there is none or it has expired. */
  async get(identity: string): Promise<WorkloadCertificate> {
    const slot = this.slot(identity);
    if (slot.cert && !slot.cert.isExpired(this.now())) return slot.cert;
    if (slot.inflight) return slot.inflight;
    if (slot.failure && this.now() < slot.failure.retryAt) throw slot.failure.error;
    return this.fetch(identity, slot);
  }

  /** Synchronous read for TLS callbacks; undefined until fetched. */
  current(identity: string): WorkloadCertificate | undefined {
    return this.slots.get(identity)?.cert;
  }

  /** Every certificate held now. */
  all(): { identity: string; cert: WorkloadCertificate }[] {
    return [...this.slots.entries()].filter(([, s]) => s.cert).map(([identity, s]) => ({ identity, cert: s.cert! }));
  }

  /** Called whenever an identity's certificate changes: issued, renewed, moved to new roots, or forgotten (undefined). */
  onChange(fn: (identity: string, cert: WorkloadCertificate | undefined) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(identity: string, cert: WorkloadCertificate | undefined): void {
    for (const fn of this.listeners) fn(identity, cert);
  }

  /** Keeps certificates for exactly these identities: fetches new ones, forgets the rest. */
  retain(identities: Iterable<string>): void {
    const keep = new Set(identities);
    for (const [id, slot] of this.slots) {
      if (keep.has(id)) continue;
      if (slot.timer !== undefined) this.timers.clearTimeout(slot.timer);
      this.slots.delete(id);
      if (slot.cert) this.emit(id, undefined);
    }
    for (const id of keep) {
      const slot = this.slot(id);
      if (!slot.cert && !slot.inflight && !slot.failure) void this.fetch(id, slot).catch(() => undefined);
    }
  }

  summary(): CertSummary[] {
    const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
    return [...this.slots.entries()].map(([identity, s]) => ({
      identity,
      notBefore: iso(s.cert?.notBefore),
      notAfter: iso(s.cert?.notAfter),
      issuedAt: iso(s.cert?.issuedAt),
      rotateAt: iso(s.cert?.rotateAt),
      requests: s.requests,
      lastError: s.failure?.error.message,
    }));
  }

  close(): void {
    this.unsubscribe();
    for (const slot of this.slots.values()) if (slot.timer !== undefined) this.timers.clearTimeout(slot.timer);
    this.slots.clear();
  }

  private slot(identity: string): Slot {
    let slot = this.slots.get(identity);
    if (!slot) {
      slot = { cert: undefined, inflight: undefined, timer: undefined, backoff: (this.opts.backoff ?? (() => exponentialBackoff(1000, 60_000)))(), failure: undefined, requests: 0 };
      this.slots.set(identity, slot);
    }
    return slot;
  }

  private fetch(identity: string, slot: Slot): Promise<WorkloadCertificate> {
    slot.inflight ??= this.request(identity, slot).finally(() => (slot.inflight = undefined));
    return slot.inflight;
  }

  private async request(identity: string, slot: Slot): Promise<WorkloadCertificate> {
    const { log } = this.opts;
    slot.requests++;
    const key = generateWorkloadKey();
    const res = await this.opts.ca.sign({ csrPem: createCsr(key, identity), spiffeId: identity });
    if (!res.ok) {
      log.warn({ identity, code: 'AMBIT_ERR_CSR_REFUSED', grpcCode: res.error.codeName, err: res.error.message }, 'certificate request failed');
      return this.failed(identity, slot, new AmbitError('AMBIT_ERR_CSR_REFUSED', `certificate for ${identity} refused: ${res.error.codeName}: ${res.error.message}`));
    }
    const cert = WorkloadCertificate.from({
      keyPem: key.keyPem,
      certChainPem: res.value.certChainPem,
      rootPem: this.opts.trust.current().rootPem,
      issuedAt: this.now(),
      ...(this.opts.random ? { renewal: { random: this.opts.random } } : {}),
    });
    if (!cert.ok) {
      log.error({ identity, code: cert.error.code, err: cert.error.message }, 'the controller answered with a certificate that does not chain to the trust bundle; refused');
      return this.failed(identity, slot, cert.error);
    }
    if (this.slots.get(identity) !== slot) return cert.value; // forgotten meanwhile: hand it out, keep nothing
    slot.cert = cert.value;
    slot.failure = undefined;
    slot.backoff.reset();
    this.schedule(identity, slot, cert.value.rotateAt);
    this.emit(identity, cert.value);
    log.info({ identity, notAfter: new Date(cert.value.notAfter).toISOString(), rotateAt: new Date(cert.value.rotateAt).toISOString() }, 'workload certificate issued');
    return cert.value;
  }

  private failed(identity: string, slot: Slot, error: Error): never {
    const retryAt = this.now() + slot.backoff.next();
    slot.failure = { error, retryAt };
    if (this.slots.get(identity) === slot) this.schedule(identity, slot, retryAt);
    throw error;
  }

  /** Fetches again at `at` (a renewal, or a retry). */
  private schedule(identity: string, slot: Slot, at: number): void {
    if (slot.timer !== undefined) this.timers.clearTimeout(slot.timer);
    slot.timer = this.timers.setTimeout(
      () => {
        slot.timer = undefined;
        if (this.slots.get(identity) !== slot) return;
        if (this.now() < at) return this.schedule(identity, slot, at);
        void this.fetch(identity, slot).catch(() => undefined);
      },
      Math.min(Math.max(0, at - this.now()), MAX_TIMER_MS),
    );
  }

  /**
   * New roots: each certificate is kept with them if its chain still verifies (the schedule
   * stays), else dropped and requested again.
   */
  private rootsChanged(bundle: TrustBundle): void {
    for (const [identity, slot] of this.slots) {
      if (!slot.cert) continue;
      const moved = slot.cert.withRoots(bundle.rootPem);
      if (moved.ok) {
        slot.cert = moved.value;
        this.emit(identity, moved.value);
        continue;
      }
      this.opts.log.warn({ identity, err: moved.error.message }, 'the certificate does not chain to the new trust bundle; requesting a new one');
      slot.cert = undefined;
      this.emit(identity, undefined);
      void this.fetch(identity, slot).catch(() => undefined);
    }
  }
}
