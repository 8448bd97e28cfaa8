import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listenersOn } from './handover.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const row = (sl: number, local: string, state: string, inode: number) => `  ${sl}: ${local} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;

describe('listenersOn', () => {
  it('finds the listeners of a port and stops reading at the first socket that is not listening', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ambit-handover-'));
    const table = join(dir, 'tcp');
    // Listeners first, as the kernel lists them; a "listener" after an established socket is not read.
    let text = HEADER + row(0, '0A00000B:3AB0', '0A', 111) + row(1, '0100007F:1F90', '0A', 222) + row(2, '00000000:3AB0', '0A', 333);
    for (let i = 0; i < 5000; i++) text += row(3 + i, '0A00000B:3AB0', '06', 0);
    text += row(9000, '0A00000B:3AB0', '0A', 999);
    writeFileSync(table, text);
    assert.deepEqual([...listenersOn(15024, table)].sort(), ['111', '333']);
  });

  it('sees a real listener in this network namespace', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      assert.equal(listenersOn(port).size, 1);
    } finally {
      server.close();
    }
  });
});
