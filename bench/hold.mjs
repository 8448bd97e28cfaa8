// Run inside a pod by bench/memory.sh: opens COUNT TCP connections to
// HOST:PORT (at most 200 connecting at once), holds them all open for HOLD
// seconds, then closes them, and prints one JSON line. Bounded in count and time.
import net from 'node:net';

const [host, port, count = '5000', hold = '10'] = process.argv.slice(2);
const total = Math.min(Number(count), 20000);
const sockets = [];
let failed = 0;
let next = 0;
const openOne = () =>
  new Promise((resolve) => {
    const s = net.connect({ host, port: Number(port) });
    const timer = setTimeout(() => (s.destroy(), failed++, resolve()), 10_000);
    s.once('connect', () => (clearTimeout(timer), sockets.push(s), resolve()));
    s.once('error', () => (clearTimeout(timer), failed++, resolve()));
  });
const started = Date.now();
await Promise.all(Array.from({ length: 200 }, async () => {
  while (next < total) (next++, await openOne());
}));
const openedMs = Date.now() - started;
console.error(`opened ${sockets.length} (${failed} failed) in ${openedMs} ms; holding ${hold} s`);
await new Promise((r) => setTimeout(r, Number(hold) * 1000));
for (const s of sockets) s.destroy();
console.log(JSON.stringify({ opened: sockets.length, failed, openedMs }));
