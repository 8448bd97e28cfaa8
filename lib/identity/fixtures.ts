/** Test-only helpers shared by the identity tests (not exported from index.ts). */
import { createRootCa, signWorkloadCsr, type MeshCa } from './ca.js';
import { WorkloadCertificate, createCsr, generateWorkloadKey, type RenewalPolicy } from './workload.js';

export const TD = 'cluster.local';
export const HOUR = 3600_000;

/** A CA whose validity starts `daysAgo` days before the real clock (so past certs can be issued). */
export function testCa(trustDomain = TD, daysAgo = 10): MeshCa {
  return createRootCa({ trustDomain, now: () => Date.now() - daysAgo * 24 * HOUR, validityDays: daysAgo + 30 });
}

/** Key + CSR + signature + holder, the whole agent/controller round trip; received at `now`. */
export function issue(ca: MeshCa, uri: string, opts: { now?: number; ttlMs?: number; renewal?: RenewalPolicy } = {}): WorkloadCertificate {
  const key = generateWorkloadKey();
  const signed = signWorkloadCsr(ca, createCsr(key, uri), {
    spiffeId: uri,
    ...(opts.ttlMs !== undefined ? { ttlMs: opts.ttlMs } : {}),
    now: () => opts.now ?? Date.now(),
  });
  if (!signed.ok) throw signed.error;
  const wc = WorkloadCertificate.from({
    keyPem: key.keyPem,
    certChainPem: signed.value,
    rootPem: ca.certPem,
    issuedAt: opts.now ?? Date.now(),
    ...(opts.renewal !== undefined ? { renewal: opts.renewal } : {}),
  });
  if (!wc.ok) throw wc.error;
  return wc.value;
}
