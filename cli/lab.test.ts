import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseLab } from './lab.js';

describe('which lab a command addresses', () => {
  const upOnly = (...labs: string[]) => async (lab: string) => labs.includes(lab);
  it('takes AMBIT_LAB as given, up or not', async () => {
    assert.equal(await chooseLab('mine', upOnly('other'), () => ['other', 'mine']), 'mine');
  });
  it('takes the default lab when it is up', async () => {
    assert.equal(await chooseLab(undefined, upOnly('ambit', 'demo'), () => ['ambit', 'demo']), 'ambit');
  });
  it('takes the only lab that is up when the default is not', async () => {
    assert.equal(await chooseLab(undefined, upOnly('demo'), () => ['demo', 'stale']), 'demo');
  });
  it('keeps the default (and its "not up" error) when none or several others are up', async () => {
    assert.equal(await chooseLab(undefined, upOnly(), () => ['demo']), 'ambit');
    assert.equal(await chooseLab(undefined, upOnly('a', 'b'), () => ['a', 'b']), 'ambit');
  });
  it('ignores folders that are not lab names', async () => {
    assert.equal(await chooseLab(undefined, upOnly('Not_A_Lab'), () => ['Not_A_Lab']), 'ambit');
  });
});
