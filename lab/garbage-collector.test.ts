import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { garbageCollectorOn } from './garbage-collector.js';

describe('AMBIT_LAB_GARBAGE_COLLECTOR', () => {
  it('is on unless set to off, and refuses anything else by name', () => {
    assert.equal(garbageCollectorOn({}), true);
    assert.equal(garbageCollectorOn({ AMBIT_LAB_GARBAGE_COLLECTOR: 'on' }), true);
    assert.equal(garbageCollectorOn({ AMBIT_LAB_GARBAGE_COLLECTOR: 'off' }), false);
    assert.throws(() => garbageCollectorOn({ AMBIT_LAB_GARBAGE_COLLECTOR: 'false' }), /AMBIT_LAB_GARBAGE_COLLECTOR must be on or off, got "false"/);
  });
});
