import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { logger } from '../../lib/log.js';
import { keepReadyFile } from './ready-file.js';

const dir = mkdtempSync(join(tmpdir(), 'ambit-ready-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the readiness file', () => {
  it('exists exactly while the agent is ready, and goes when the agent stops', async () => {
    const file = join(dir, 'ready');
    let why: string | undefined = 'no config yet';
    const keeper = keepReadyFile(file, () => why, logger('test'), 10);
    assert.equal(existsSync(file), false);
    why = undefined;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(readFileSync(file, 'utf8'), `ready (pid ${process.pid})\n`);
    why = 'the data-path workers are not all listening yet';
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(existsSync(file), false);
    why = undefined;
    await new Promise((r) => setTimeout(r, 50));
    keeper.close();
    assert.equal(existsSync(file), false, 'a stopping agent is not ready');
  });
});
