import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { logger } from '../log.js';
import { manualTimers } from '../testing/manual-timers.js';
import { TD, testCa } from './fixtures.js';
import { TrustBundleFile } from './trust-file.js';
import type { TrustBundle } from './verify.js';

const log = logger('test', 'trust');

describe('TrustBundleFile', () => {
  let dir: string;
  const oldRoot = testCa();
  const newRoot = testCa();
  // As kubelet does: write beside, then swap in.
  const write = async (path: string, text: string) => {
    await writeFile(`${path}.tmp`, text);
    await rename(`${path}.tmp`, path);
  };

  before(async () => (dir = await mkdtemp(join(tmpdir(), 'ambit-trust-'))));
  after(async () => rm(dir, { recursive: true, force: true }));

  it('refuses to start without a usable file, naming what to mount', async () => {
    const missing = await TrustBundleFile.open({ path: join(dir, 'nope.pem'), trustDomain: TD, log });
    assert.ok(!missing.ok);
    assert.equal(missing.error.code, 'AMBIT_ERR_TRUST_BUNDLE');
    assert.match(missing.error.message, /nope\.pem: does not exist; mount ConfigMap ambit-root-ca \(key root-cert\.pem/);
    await write(join(dir, 'garbage.pem'), 'not a certificate');
    const garbage = await TrustBundleFile.open({ path: join(dir, 'garbage.pem'), trustDomain: TD, log });
    assert.ok(!garbage.ok && garbage.error.code === 'AMBIT_ERR_TRUST_BUNDLE');
  });

  it('follows the file: an overlap bundle, then the new root alone; a bad version keeps the last good one', async () => {
    const path = join(dir, 'root-cert.pem');
    await write(path, oldRoot.certPem);
    const timers = manualTimers();
    const opened = await TrustBundleFile.open({ path, trustDomain: TD, log, pollMs: 1000, timers });
    assert.ok(opened.ok);
    const file = opened.value;
    const seen: TrustBundle[] = [];
    file.onChange((b) => seen.push(b));
    assert.equal(file.current().roots.length, 1);

    await write(path, oldRoot.certPem + newRoot.certPem);
    await file.reload();
    assert.equal(file.current().roots.length, 2);
    assert.equal(seen.length, 1);
    await file.reload(); // unchanged: no event
    assert.equal(seen.length, 1);

    await write(path, 'truncated -----BEGIN CERTIFICATE-----');
    await file.reload();
    assert.equal(file.current().roots.length, 2, 'the last good bundle stays');
    assert.match(file.summary().lastError ?? '', /AMBIT_ROOT_CA_FILE|malformed|outside/);

    await write(path, newRoot.certPem);
    await file.reload();
    assert.deepEqual(file.current().roots.map((r) => r.fingerprint256), [new X509Certificate(newRoot.certPem).fingerprint256]);
    assert.equal(seen.length, 2);
    assert.equal(file.summary().lastError, undefined);
    assert.equal(timers.pending, 1, 'one poll is scheduled');
    file.close();
    timers.advance(1000);
    assert.equal(timers.pending, 0, 'closed: no more polls');
  });
});
