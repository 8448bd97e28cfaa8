import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logger } from '../../lib/log.js';
import { renderInbound, startInboundCapture, type CapturedPod } from './capture.js';

const log = logger('test', 'capture');
const noRouting = { ensure: async () => {}, remove: async () => {} };

/** An nft runner that records scripts and finishes each only when told to. */
function controlledNft() {
  const applied: string[] = [];
  const waiting: (() => void)[] = [];
  return {
    applied,
    run: (script: string) =>
      new Promise<void>((resolve) => {
        waiting.push(() => {
          applied.push(script);
          resolve();
        });
      }),
    /** Finishes the oldest running nft. */
    finishOne: async () => {
      for (let i = 0; i < 20 && waiting.length === 0; i++) await new Promise((r) => setImmediate(r));
      waiting.shift()?.();
      await new Promise((r) => setImmediate(r));
    },
    running: () => waiting.length,
  };
}

const pods = (...ips: string[]): CapturedPod[] => ips.map((ip) => ({ ip, mode: 'PERMISSIVE' }));
const elementsOf = (script: string) => /set meshed \{ type ipv4_addr; (?:elements = \{ ([^}]*) \})?/.exec(script)?.[1]?.trim() ?? '';

describe('inbound capture table', () => {
  it('refuses only new connections, so label changes never reset open ones', () => {
    const t = renderInbound([{ ip: '10.244.1.5', mode: 'STRICT' }, { ip: '10.244.1.6', mode: 'PERMISSIVE' }], 15006);
    assert.match(t, /set meshed \{ type ipv4_addr; elements = \{ 10\.244\.1\.5, 10\.244\.1\.6 \} \}/);
    assert.match(t, /set permissive \{ type ipv4_addr; elements = \{ 10\.244\.1\.6 \} \}/);
    assert.match(t, /ip daddr @permissive tcp flags & \(syn \| ack\) == syn tproxy to :15006/);
    // What TPROXY did not take (STRICT, or no agent listening) is refused, but only if it opens a connection.
    assert.match(t, /ip daddr @meshed tcp flags & \(syn \| ack\) == syn reject with tcp reset/);
    // Replies to the agent's own transparent sockets come back to it, whoever they are addressed to.
    assert.match(t, /meta l4proto tcp socket transparent 1 meta mark set 416 accept/);
  });

  it('re-adopts an existing table untouched and creates a missing one empty', async () => {
    const scripts: string[] = [];
    const record = async (s: string): Promise<void> => void scripts.push(s);
    await startInboundCapture({ port: 15006, log, run: record, tableExists: async () => true, routing: noRouting });
    assert.deepEqual(scripts, [], 'an existing table is kept as the last agent left it');
    await startInboundCapture({ port: 15006, log, run: record, tableExists: async () => false, routing: noRouting });
    assert.equal(scripts.length, 1);
    assert.equal(elementsOf(scripts[0]!), '');
  });

  it('applies updates one at a time, skipping superseded ones, so an older set never lands last', async () => {
    const nft = controlledNft();
    const capture = await startInboundCapture({ port: 15006, log, run: nft.run, tableExists: async () => true, routing: noRouting });
    const first = capture.update(pods('10.0.0.1'));
    await new Promise((r) => setImmediate(r)); // the first is now running nft
    assert.equal(nft.running(), 1);
    const second = capture.update(pods('10.0.0.2'));
    const third = capture.update(pods('10.0.0.3'));
    assert.equal(second, third, 'waiting updates share one run');
    await nft.finishOne();
    assert.equal(nft.running(), 1, 'the next waits for the first to finish');
    await nft.finishOne();
    await Promise.all([first, second, third]);
    assert.deepEqual(nft.applied.map(elementsOf), ['10.0.0.1', '10.0.0.3']);
    // The same set again changes nothing in the kernel.
    await capture.update(pods('10.0.0.3'));
    assert.equal(nft.running(), 0);
    await capture.close({ remove: false });
    assert.equal(nft.applied.length, 2, 'closing without remove leaves the table in the kernel');
  });

  it('a failed update does not block the next one', async () => {
    let fail = true;
    const applied: string[] = [];
    const capture = await startInboundCapture({
      port: 15006,
      log,
      run: async (s) => {
        if (fail) {
          fail = false;
          throw new Error('nft: busy');
        }
        applied.push(s);
      },
      tableExists: async () => true,
      routing: noRouting,
    });
    await assert.rejects(capture.update(pods('10.0.0.1')), /busy/);
    await capture.update(pods('10.0.0.1'));
    assert.deepEqual(applied.map(elementsOf), ['10.0.0.1']);
    await capture.close({ remove: true });
    assert.match(applied.at(-1)!, /delete table ip ambit_inbound/, 'an uninstall removes the table');
  });
});
