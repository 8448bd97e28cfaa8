/**
 * TLS secure contexts for workload material, built once per certificate. Creating a context
 * parses keys and certificates (about a millisecond), so it must not happen per handshake;
 * rotation is simply new material, which gets a new context, while connections made with the
 * old one keep it.
 */
import tls from 'node:tls';
import { meshTlsOptions, type WorkloadTlsMaterial } from '../identity/verify.js';

const MAX_CONTEXTS = 1024;

export class SecureContextCache {
  readonly #byObject = new WeakMap<WorkloadTlsMaterial, { key: string; ctx: tls.SecureContext }>();
  readonly #byPem = new Map<string, tls.SecureContext>();

  /** The context for `m` (mutual TLS 1.3, requesting and verifying the peer against `m.rootPem`). */
  get(m: WorkloadTlsMaterial): tls.SecureContext {
    const key = `${m.certChainPem}\0${m.rootPem}`;
    const hit = this.#byObject.get(m);
    if (hit && hit.key === key) return hit.ctx;
    let ctx = this.#byPem.get(key);
    if (ctx) {
      this.#byPem.delete(key); // LRU: move to the end
    } else {
      ctx = tls.createSecureContext(meshTlsOptions(m));
      if (this.#byPem.size >= MAX_CONTEXTS) this.#byPem.delete(this.#byPem.keys().next().value!);
    }
    this.#byPem.set(key, ctx);
    this.#byObject.set(m, { key, ctx });
    return ctx;
  }
}
