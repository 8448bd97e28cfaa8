// Opens N sequential TCP connections to HOST:PORT and reports connect() and
// first-byte latency percentiles in microseconds (the server writes first).
import net from 'node:net';

const [host, port, n] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 1000)];
const connectUs = [];
const firstByteUs = [];
for (let i = 0; i < n; i++) {
  const t0 = process.hrtime.bigint();
  await new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.once('connect', () => connectUs.push(Number(process.hrtime.bigint() - t0) / 1000));
    s.once('data', () => {
      firstByteUs.push(Number(process.hrtime.bigint() - t0) / 1000);
      s.destroy();
      resolve();
    });
    s.once('error', reject);
  });
}
const pct = (a, p) => a.sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor((p / 100) * a.length))].toFixed(0);
console.log(`n=${n} connect p50=${pct(connectUs, 50)}us p99=${pct(connectUs, 99)}us  first-byte p50=${pct(firstByteUs, 50)}us p99=${pct(firstByteUs, 99)}us`);
