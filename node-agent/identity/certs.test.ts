import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTrustBundle, signWorkloadCsr, type MeshCa, type TrustBundle, type TrustSource } from '../../lib/identity/index.js';
import { testCa } from '../../lib/identity/fixtures.js';
import { logger } from '../../lib/log.js';
import { manualTimers, type ManualTimers } from '../../lib/testing/manual-timers.js';
import type { MeshCaClient, SignResult } from '../../lib/xds/index.js';
import { CertManager } from './certs.js';

const WEB = 'spiffe://cluster.local/ns/shop/sa/web';
const DB = 'spiffe://cluster.local/ns/shop/sa/db';
const SECOND = 1000;
const log = logger('test', 'certs');

function bundleOf(...cas: MeshCa[]): TrustBundle {
  const b = createTrustBundle('cluster.local', cas.map((c) => c.certPem));
  if (!b.ok) throw b.error;
  return b.value;
}

/** A trust source the test changes, as the bundle file changes under an agent. */
function mutableTrust(initial: TrustBundle): TrustSource & { set(b: TrustBundle): void } {
  let current = initial;
  const listeners = new Set<(b: TrustBundle) => void>();
  return {
    current: () => current,
    onChange: (l) => (listeners.add(l), () => listeners.delete(l)),
    set: (b) => {
      current = b;
      for (const l of listeners) l(b);
    },
  };
}

/** A CA client that signs with `signer` (60 s certificates, on the test's clock) or refuses while `refuse` is set. */
function fakeCa(timers: ManualTimers, signer: () => MeshCa) {
  const calls: string[] = [];
  const state = { refuse: undefined as string | undefined };
  const ca: MeshCaClient = {
    sign: async (req): Promise<SignResult> => {
      calls.push(req.spiffeId);
      if (state.refuse) return { ok: false, error: { code: 7, codeName: 'PERMISSION_DENIED', message: state.refuse } };
      const s = signer();
      const signed = signWorkloadCsr(s, req.csrPem, { spiffeId: req.spiffeId, ttlMs: 60 * SECOND, now: () => timers.now });
      if (!signed.ok) throw signed.error;
      // The controller's root comes along; the manager must not care.
      return { ok: true, value: { certChainPem: signed.value, rootPem: s.certPem } };
    },
    close: () => undefined,
  };
  return { ca, calls, state };
}

const flush = () => new Promise((r) => setImmediate(r));

/** Advances the clock in steps, letting the manager's promises settle between them. */
async function run(timers: ManualTimers, ms: number, step: number, each?: () => void): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    each?.();
    await flush();
    timers.advance(step);
    await flush();
  }
}

describe('CertManager', () => {
  const ca = testCa();

  it('renews a 60 s certificate about every half-life, however many connections ask for it', async () => {
    const timers = manualTimers(Date.now());
    const { ca: client, calls } = fakeCa(timers, () => ca);
    const certs = new CertManager({ ca: client, trust: mutableTrust(bundleOf(ca)), log, now: () => timers.now, timers, random: Math.random });
    certs.retain([WEB]);
    const serials = new Set<string>();
    // Five minutes; every 100 ms a new connection asks for the certificate, as the outbound proxy does.
    await run(timers, 300 * SECOND, 100, () => {
      void certs.get(WEB).then((c) => serials.add(c.certChainPem));
    });
    // Renewal lands between 24 s (full jitter) and 30 s after each issue: 10 to 13 in 300 s, plus the first.
    assert.ok(calls.length >= 10 && calls.length <= 14, `CSRs in 5 minutes: ${calls.length}`);
    assert.equal(serials.size, calls.length, 'every certificate was handed out, none was requested for nothing');
    const [summary] = certs.summary();
    assert.equal(summary?.requests, calls.length);
    assert.ok(Date.parse(summary!.rotateAt!) > timers.now, 'the current one is not due');
    certs.close();
    assert.equal(timers.pending, 0, 'closed: no timers left');
  });

  it('backs off after a refusal: callers get the failure without a new CSR until the retry', async () => {
    const timers = manualTimers(Date.now());
    const { ca: client, calls, state } = fakeCa(timers, () => ca);
    let attempt = 0;
    const certs = new CertManager({
      ca: client,
      trust: mutableTrust(bundleOf(ca)),
      log,
      now: () => timers.now,
      timers,
      backoff: () => ({ next: () => 1000 * 2 ** attempt++, reset: () => (attempt = 0) }),
    });
    state.refuse = 'node node-a runs no pod with service account shop/db';
    await assert.rejects(certs.get(DB), { code: 'AMBIT_ERR_CSR_REFUSED' });
    for (let i = 0; i < 50; i++) await assert.rejects(certs.get(DB), /runs no pod/);
    assert.equal(calls.length, 1, 'fifty connections, one CSR');
    await run(timers, 1000, 100); // the retry after 1 s fails again; the next waits 2 s
    assert.equal(calls.length, 2);
    await run(timers, 1500, 100);
    assert.equal(calls.length, 2);
    state.refuse = undefined;
    await run(timers, 600, 100);
    assert.equal(calls.length, 3);
    assert.equal((await certs.get(DB)).spiffeId.uri, DB);
    assert.equal(certs.summary()[0]?.lastError, undefined);
    certs.close();
  });

  it("refuses a certificate that does not chain to the trust bundle, whatever root the controller sends along", async () => {
    const timers = manualTimers(Date.now());
    const impostor = testCa();
    const { ca: client } = fakeCa(timers, () => impostor);
    const certs = new CertManager({ ca: client, trust: mutableTrust(bundleOf(ca)), log, now: () => timers.now, timers });
    await assert.rejects(certs.get(WEB), { code: 'AMBIT_ERR_CERT_INVALID' });
    assert.equal(certs.current(WEB), undefined);
    certs.close();
  });

  it('follows a root rotation: kept while the bundle holds its issuer, renewed at once when it no longer does', async () => {
    const timers = manualTimers(Date.now());
    const next = testCa();
    let signer = ca;
    const { ca: client, calls } = fakeCa(timers, () => signer);
    const trust = mutableTrust(bundleOf(ca));
    const certs = new CertManager({ ca: client, trust, log, now: () => timers.now, timers });
    const first = await certs.get(WEB);
    // Overlap: both roots. Same certificate and schedule, the new roots to verify peers with.
    trust.set(bundleOf(ca, next));
    const moved = certs.current(WEB)!;
    assert.equal(moved.certChainPem, first.certChainPem);
    assert.equal(moved.rotateAt, first.rotateAt);
    assert.equal(moved.rootPem, bundleOf(ca, next).rootPem);
    assert.equal(calls.length, 1);
    // The controller signs with the new root; the old one leaves the bundle: re-requested now.
    signer = next;
    trust.set(bundleOf(next));
    await run(timers, 100, 100);
    assert.equal(calls.length, 2);
    assert.notEqual(certs.current(WEB)!.certChainPem, first.certChainPem);
    assert.equal(certs.current(WEB)!.rootPem, bundleOf(next).rootPem);
    certs.close();
  });
});
