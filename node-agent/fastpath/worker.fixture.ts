/**
 * For fastpath.test.ts: the data path in a worker thread, as a restructured
 * agent would run it. Opens the fast path from the pin folder alone, joins one
 * connection to `target` and reports what it carried.
 */
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { connectTcp } from '../../lib/hbone/index.js';
import { openFastPath } from './index.js';

const { pinDir, target } = workerData as { pinDir: string; target: number };
const fp = openFastPath({ pinDir, log: pino({ level: 'silent' }) });
const server = net.createServer({ allowHalfOpen: true }, (client) => {
  void connectTcp({ host: '127.0.0.1', port: target, family: 4 }).then(async (up) => {
    if (!up.ok) throw up.error;
    const r = await fp.splice(client, up.value);
    parentPort!.postMessage({ path: fp.status().path, streamToSocket: r.streamToSocket, socketToStream: r.socketToStream });
    server.close();
    fp.close();
  });
});
server.listen(0, '127.0.0.1', () => parentPort!.postMessage((server.address() as net.AddressInfo).port));
