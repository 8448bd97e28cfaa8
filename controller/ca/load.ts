import { AmbitError } from '../../lib/errors.js';
import { createRootCa, loadCa, type MeshCa } from '../../lib/identity/index.js';
import type { Logger } from '../../lib/log.js';
import type { CaStore } from './store.js';

/** The stored CA, or a new root created and stored on first start (the loser of a creation race loads the winner's). */
export async function loadOrCreateCa(store: CaStore, opts: { trustDomain: string; log: Logger; now?: () => number }): Promise<MeshCa> {
  const fromStore = async (): Promise<MeshCa | undefined> => {
    const pem = await store.load();
    if (!pem) return undefined;
    const ca = loadCa(pem, { trustDomain: opts.trustDomain });
    if (!ca.ok) throw new AmbitError('AMBIT_ERR_CA', `the CA in ${store.describe} is unusable: ${ca.error.message}`, { cause: ca.error });
    return ca.value;
  };
  const existing = await fromStore();
  if (existing) {
    opts.log.info({ store: store.describe, trustDomain: existing.trustDomain, notAfter: new Date(existing.notAfter).toISOString() }, 'mesh CA loaded');
    return existing;
  }
  const fresh = createRootCa({ trustDomain: opts.trustDomain, ...(opts.now ? { now: opts.now } : {}) });
  if ((await store.create(fresh.toPem())) === 'created') {
    opts.log.info({ store: store.describe, trustDomain: fresh.trustDomain }, 'mesh CA root created');
    return fresh;
  }
  const winner = await fromStore();
  if (!winner) throw new AmbitError('AMBIT_ERR_CA', `${store.describe} reported an existing CA but none could be read`);
  opts.log.info({ store: store.describe }, 'another replica created the mesh CA root first; loaded it');
  return winner;
}
