import { X509Certificate } from 'node:crypto';
import { AmbitError } from '../../lib/errors.js';
import { createRootCa, createTrustBundle, loadCa, summarizeRoots, type MeshCa, type TrustBundle } from '../../lib/identity/index.js';
import type { Logger } from '../../lib/log.js';
import type { CaStore, StoredCa } from './store.js';

/** The CA that signs, and the bundle every node is to trust: its root first, then the store's other roots. */
export interface LoadedCa {
  ca: MeshCa;
  bundle: TrustBundle;
}

/**
 * The stored CA, or a new root created and stored on first start (the loser of a creation
 * race loads the winner's), with its trust bundle. Other roots from the store that have
 * expired are left out, with a warning to remove them.
 */
export async function loadOrCreateCa(store: CaStore, opts: { trustDomain: string; log: Logger; now?: () => number }): Promise<LoadedCa> {
  const unusable = (why: string, cause: unknown) => new AmbitError('AMBIT_ERR_CA', `the CA in ${store.describe} is unusable: ${why}`, { cause });
  const loaded = (stored: StoredCa): LoadedCa => {
    const ca = loadCa(stored, { trustDomain: opts.trustDomain });
    if (!ca.ok) throw unusable(ca.error.message, ca.error);
    return { ca: ca.value, bundle: trustBundle(ca.value, stored.trustedRootsPem) };
  };
  const trustBundle = (ca: MeshCa, trustedRootsPem: string | undefined): TrustBundle => {
    const now = (opts.now ?? Date.now)();
    const pems = [ca.certPem];
    if (trustedRootsPem !== undefined && trustedRootsPem.trim() !== '') {
      const others = createTrustBundle(opts.trustDomain, trustedRootsPem);
      if (!others.ok) throw unusable(`its trusted roots: ${others.error.message}`, others.error);
      const signing = new X509Certificate(ca.certPem);
      for (const root of others.value.roots) {
        if (root.raw.equals(signing.raw)) continue;
        if (Date.parse(root.validTo) < now) {
          opts.log.warn({ store: store.describe, root: summarizeRoots([root])[0] }, 'a trusted root has expired and is left out of the trust bundle; remove it from the store');
          continue;
        }
        pems.push(root.toString());
      }
    }
    const bundle = createTrustBundle(opts.trustDomain, pems);
    if (!bundle.ok) throw unusable(bundle.error.message, bundle.error);
    return bundle.value;
  };

  const existing = await store.load();
  if (existing) {
    const ca = loaded(existing);
    opts.log.info({ store: store.describe, trustDomain: ca.ca.trustDomain, notAfter: new Date(ca.ca.notAfter).toISOString(), trustBundle: summarizeRoots(ca.bundle.roots) }, 'mesh CA loaded');
    return ca;
  }
  const fresh = createRootCa({ trustDomain: opts.trustDomain, ...(opts.now ? { now: opts.now } : {}) });
  if ((await store.create(fresh.toPem())) === 'created') {
    opts.log.info({ store: store.describe, trustDomain: fresh.trustDomain }, 'mesh CA root created');
    return { ca: fresh, bundle: trustBundle(fresh, undefined) };
  }
  const winner = await store.load();
  if (!winner) throw new AmbitError('AMBIT_ERR_CA', `${store.describe} reported an existing CA but none could be read`);
  opts.log.info({ store: store.describe }, 'another replica created the mesh CA root first; loaded it');
  return loaded(winner);
}
