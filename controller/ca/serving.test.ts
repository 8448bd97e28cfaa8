import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { createRootCa } from '../../lib/identity/index.js';
import { logger } from '../../lib/log.js';
import { manualTimers } from '../../lib/testing/manual-timers.js';
import { ControllerMetrics } from '../admin/metrics.js';
import { BundlePublisher, type BundleSink } from './publish.js';
import { ServingCertificate } from './serving.js';

const log = logger('test', 'ca');
const ID = 'spiffe://cluster.local/ns/ambit-system/sa/ambit-controller';
const DNS = ['ambit-controller.ambit-system.svc'];
const flush = () => new Promise((r) => setImmediate(r));

describe('ServingCertificate', () => {
  it('renews at half its life from issue (minus the drawn jitter) and hands each one to the server', async () => {
    const timers = manualTimers(Math.floor(Date.now() / 1000) * 1000); // whole seconds, as in the certificate
    const metrics = new ControllerMetrics();
    const ca = createRootCa({ trustDomain: 'cluster.local' });
    const serving = new ServingCertificate({ ca, spiffeId: ID, dnsNames: DNS, ttlMs: 60_000, log, metrics, now: () => timers.now, timers, random: () => 0.5 });
    const first = serving.current();
    assert.equal(first.renewAt, first.issuedAt + 30_000 - 3_000, '50 % of 60 s, 5 % earlier (half of the 10 % jitter)');
    const x = new X509Certificate(first.certChainPem);
    assert.equal(x.subjectAltName, `URI:${ID}, DNS:${DNS[0]}`);
    assert.ok(x.verify(new X509Certificate(ca.certPem).publicKey));

    const updates: grpc.experimental.IdentityCertificateUpdate[] = [];
    serving.addIdentityCertificateListener((u) => u && updates.push(u));
    await flush();
    assert.equal(updates.length, 1, 'the current certificate, on the next tick');
    assert.equal(updates[0]!.certificate.toString(), first.certChainPem);

    timers.advance(26_999);
    assert.equal(updates.length, 1);
    timers.advance(1);
    assert.equal(updates.length, 2);
    assert.notEqual(serving.current().serial, first.serial);
    assert.equal(serving.current().issuedAt, timers.now);
    timers.advance(5 * 60_000);
    assert.equal(updates.length, 2 + 11, 'one renewal every 27 s');
    assert.match(await metrics.registry.getSingleMetricAsString('ambit_ca_serving_certificates_issued_total'), / 13$/m);
    serving.close();
    assert.equal(timers.pending, 0);
  });
});

describe('BundlePublisher', () => {
  it('publishes at once, retries failures with backoff, and re-checks while it runs', async () => {
    const timers = manualTimers();
    const writes: string[] = [];
    let failing = 2;
    const sink: BundleSink = {
      describe: 'test sink',
      write: async (pem) => {
        writes.push(pem);
        if (failing-- > 0) throw new Error('API server unavailable');
        return writes.length === 3 ? 'created' : 'unchanged';
      },
    };
    const p = new BundlePublisher({ sink, pem: 'PEM', log, timers, resyncMs: 60_000, backoff: { next: () => 1000, reset: () => undefined } });
    await flush();
    assert.equal(p.isPublished, false);
    timers.advance(1000);
    await flush();
    timers.advance(1000);
    await flush();
    assert.equal(p.isPublished, true);
    await p.firstPublished;
    assert.equal(writes.length, 3);
    timers.advance(60_000);
    await flush();
    assert.equal(writes.length, 4, 'a resync a minute later');
    p.stop();
    assert.equal(timers.pending, 0);
  });
});
