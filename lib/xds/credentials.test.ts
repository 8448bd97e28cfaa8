import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import { issueServingCertificate } from '../identity/index.js';
import { testCa } from '../identity/fixtures.js';
import { logger } from '../log.js';
import { manualTimers } from '../testing/manual-timers.js';
import { INSECURE_REMINDER_MS, controllerIdentityCheck, controllerTlsFailure, warnInsecureControlPlane } from './credentials.js';

const NAME = 'ambit-controller.ambit-system.svc';
const ID = 'spiffe://cluster.local/ns/ambit-system/sa/ambit-controller';

/** What tls hands checkServerIdentity: the parsed subjectaltname and the DER. */
const peer = (pem: string): PeerCertificate => {
  const x = new X509Certificate(pem);
  return { raw: x.raw, subjectaltname: x.subjectAltName, subject: {} } as unknown as PeerCertificate;
};

describe('controller identity check', () => {
  const ca = testCa();
  const check = controllerIdentityCheck(NAME, ID);
  const cert = (spiffeId: string, dnsNames: string[]) => peer(issueServingCertificate(ca, { spiffeId, dnsNames, ttlMs: 60_000 }).certChainPem);

  it('accepts the controller by its Service name and SPIFFE ID, whatever address was dialled', () => {
    assert.equal(check('10.200.0.1', cert(ID, [NAME, `${NAME}.cluster.local`])), undefined);
  });

  it('refuses a certificate without the name (a workload certificate has none), or with another identity', () => {
    const noName = check(NAME, cert(ID, ['other.ambit-system.svc']));
    assert.equal((noName as { code?: string }).code, 'AMBIT_ERR_CONTROLLER_TLS');
    assert.match(noName!.message, /not valid for ambit-controller\.ambit-system\.svc.*nothing was sent to it/);
    const otherId = check(NAME, cert('spiffe://cluster.local/ns/ambit-system/sa/intruder', [NAME]));
    assert.match(otherId!.message, /it is spiffe:\/\/cluster\.local\/ns\/ambit-system\/sa\/intruder, expected spiffe:\/\/cluster\.local\/ns\/ambit-system\/sa\/ambit-controller/);
  });

  it('tells TLS failures from others in what grpc-js reports', () => {
    assert.ok(controllerTlsFailure('UNAVAILABLE: No connection established. Last error: Error: unable to verify the first certificate'));
    assert.ok(controllerTlsFailure('UNAVAILABLE: No connection established. Last error: Error: 80EC:error:0A00010B:SSL routines:ssl3_get_record:wrong version number'));
    assert.equal(controllerTlsFailure('UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:15010'), undefined);
    assert.equal(controllerTlsFailure('UNAUTHENTICATED: unknown token'), undefined);
  });
});

describe('the plaintext development flag', () => {
  it('warns at once and again every few minutes until stopped', () => {
    const lines: string[] = [];
    const log = logger('test', 'insecure');
    const spy = Object.assign(Object.create(log) as typeof log, { warn: (_o: unknown, msg: string) => void lines.push(msg) });
    const timers = manualTimers();
    const stop = warnInsecureControlPlane(spy, 'the test', timers);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /INSECURE CONTROL PLANE: the test speaks PLAINTEXT gRPC on 15010 \(AMBIT_INSECURE_CONTROL_PLANE=true\)/);
    timers.advance(2 * INSECURE_REMINDER_MS);
    assert.equal(lines.length, 3);
    stop();
    timers.advance(2 * INSECURE_REMINDER_MS);
    assert.equal(lines.length, 3);
    assert.equal(timers.pending, 0);
  });
});
