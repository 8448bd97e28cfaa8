import { AmbitError } from '../../lib/errors.js';
import type { WorkloadTlsMaterial } from '../../lib/identity/verify.js';

/** The workload certificates the data path presents, as it sees them. */
export interface CertSource {
  /** The current material of an identity, fetched if there is none yet. */
  get(identity: string): Promise<WorkloadTlsMaterial>;
  /** Synchronous, for TLS callbacks; undefined until fetched. */
  current(identity: string): WorkloadTlsMaterial | undefined;
}

/** One identity's material as it crosses to a worker thread. */
export interface CertMaterial extends WorkloadTlsMaterial {
  notAfter: number;
}

/**
 * A worker thread's copy of the node's workload certificates. Keys are
 * generated and renewed by the agent's main thread (CertManager), which
 * sends every change to every worker; a worker that lacks one asks, and the
 * connection waits for the answer (bounded).
 */
export class CertCache implements CertSource {
  private readonly material = new Map<string, CertMaterial>();
  private readonly waiting = new Map<string, { resolve: (m: CertMaterial) => void; reject: (e: Error) => void }[]>();

  constructor(
    /** Asks the main thread for an identity's certificate; the answer comes as `put` or `refuse`. */
    private readonly ask: (identity: string) => void,
    private readonly timeoutMs = 15_000,
    private readonly now: () => number = Date.now,
  ) {}

  current(identity: string): CertMaterial | undefined {
    const m = this.material.get(identity);
    return m && m.notAfter > this.now() ? m : undefined;
  }

  get(identity: string): Promise<CertMaterial> {
    const have = this.current(identity);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(identity);
      const timer = setTimeout(() => this.settle(identity, (w) => w.reject(new AmbitError('AMBIT_ERR_CSR_REFUSED', `no certificate for ${identity} within ${this.timeoutMs} ms`))), this.timeoutMs);
      const entry = {
        resolve: (m: CertMaterial) => (clearTimeout(timer), resolve(m)),
        reject: (e: Error) => (clearTimeout(timer), reject(e)),
      };
      if (list) list.push(entry);
      else {
        this.waiting.set(identity, [entry]);
        this.ask(identity);
      }
    });
  }

  /** A new or renewed certificate from the main thread; undefined: forgotten. */
  put(identity: string, m: CertMaterial | undefined): void {
    if (!m) {
      this.material.delete(identity);
      return;
    }
    this.material.set(identity, m);
    this.settle(identity, (w) => w.resolve(m));
  }

  /** The main thread could not get one. */
  refuse(identity: string, message: string): void {
    this.settle(identity, (w) => w.reject(new AmbitError('AMBIT_ERR_CSR_REFUSED', message)));
  }

  private settle(identity: string, fn: (w: { resolve: (m: CertMaterial) => void; reject: (e: Error) => void }) => void): void {
    const list = this.waiting.get(identity);
    this.waiting.delete(identity);
    list?.forEach(fn);
  }
}
