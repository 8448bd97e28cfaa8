/**
 * `npm run fuzz`: throws malformed input at every port a stranger can reach,
 * in a lab of its own, and checks that every process survived with its
 * memory flat. Not a CI test (it takes minutes and loads both cores); its
 * figures are recorded in docs/robustness.md.
 *
 *   FUZZ_INPUTS   inputs per target (default 100000)
 *   FUZZ_SEED     seed of the first target (default 1; each target adds its index)
 *   AMBIT_LAB     the lab to boot (default "fuzz"); it is removed at the end
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCsr, generateWorkloadKey, loadCa, signWorkloadCsr } from '../../lib/identity/index.js';
import { identityToSni } from '../../lib/mesh/sni.js';
import type { Tally } from './targets/common.js';

const repo = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const lab = process.env.AMBIT_LAB ?? 'fuzz';
const inputs = Number(process.env.FUZZ_INPUTS ?? 100_000);
const seed = Number(process.env.FUZZ_SEED ?? 1);
const env = { ...process.env, AMBIT_LAB: lab };
const netns = (n: string) => `/run/netns/ambit-${lab}-${n}`;

interface Status {
  nodes: { name: string; ip: string }[];
  pods: { namespace: string; name: string; ip: string }[];
  components: { kind: string; name: string; node?: string; pid?: number; admin: string; restarts: number }[];
}

const ambit = (...a: string[]) => execFileSync(join(repo, 'bin', 'ambit'), a, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
const status = (): Status => JSON.parse(ambit('lab', 'status', '--json')) as Status;

function run(argv: string[], timeoutMs = 15 * 60_000): Promise<string> {
  return new Promise((done, fail) =>
    execFile(argv[0]!, argv.slice(1), { env, maxBuffer: 64 << 20, timeout: timeoutMs }, (err, stdout, stderr) => (err ? fail(new Error(`${argv.join(' ')}: ${stderr || err.message}`)) : done(stdout))),
  );
}

const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function ready(admin: string): Promise<boolean> {
  const out = await run(['nsenter', `--net=${netns('fabric')}`, process.execPath, '-e', `fetch('http://${admin}/ready').then(r => console.log(r.status), () => console.log(0))`]);
  return out.trim() === '200';
}

/** A call through the mesh and one from outside it, both answered: the data path still works. */
async function meshWorks(server: string): Promise<boolean> {
  const probe = `const s=require('net').connect(9000,'${server}',()=>s.end('ping'));let d='';s.on('data',x=>d+=x);s.on('close',()=>console.log(d==='ping'?'ok':'no'));s.on('error',()=>console.log('no'))`;
  const [meshed, outside] = await Promise.all([run([join(repo, 'bin', 'ambit'), 'lab', 'exec', 'target/client', '--', 'node', '-e', probe]), run([join(repo, 'bin', 'ambit'), 'lab', 'exec', 'outside/thrower', '--', 'node', '-e', probe])]);
  return meshed.trim() === 'ok' && outside.trim() === 'ok';
}

async function main(): Promise<void> {
  execFileSync(join(repo, 'bin', 'ambit'), ['lab', 'down'], { env, stdio: 'ignore' });
  ambit('lab', 'up', '-f', join(repo, 'test', 'fuzz', 'lab.yaml'));
  try {
    const st = status();
    const node = (n: string) => st.nodes.find((x) => x.name === n)!.ip;
    const server = st.pods.find((p) => p.namespace === 'target' && p.name === 'server')!.ip;
    const watched = st.components.filter((c) => c.kind === 'controller' || c.kind === 'node-agent').map((c) => ({ name: c.name, pid: c.pid!, admin: c.admin, restarts: c.restarts }));
    const controller = st.components.find((c) => c.kind === 'controller')!;

    // A genuine mesh client certificate, so the HTTP/2 layer of 15008 is reachable.
    const caDir = join('/run/ambit/labs', lab, 'ca');
    const ca = loadCa({ certPem: readFileSync(join(caDir, 'ca-cert.pem'), 'utf8'), keyPem: readFileSync(join(caDir, 'ca-key.pem'), 'utf8') });
    if (!ca.ok) throw ca.error;
    const key = generateWorkloadKey();
    const identity = 'spiffe://cluster.local/ns/target/sa/default';
    const signed = signWorkloadCsr(ca.value, createCsr(key, identity), { spiffeId: identity });
    if (!signed.ok) throw signed.error;
    const certDir = mkdtempSync(join(tmpdir(), 'ambit-fuzz-'));
    writeFileSync(join(certDir, 'key.pem'), key.keyPem, { mode: 0o600 });
    writeFileSync(join(certDir, 'cert.pem'), signed.value);
    writeFileSync(join(certDir, 'root.pem'), ca.value.certPem);
    const sni = identityToSni('spiffe://cluster.local/ns/target/sa/server')!;

    if (!(await meshWorks(server))) throw new Error('the lab does not carry traffic before fuzzing');
    const before = Object.fromEntries(watched.map((w) => [w.name, rssMiB(w.pid)]));
    const peak = { ...before };

    const target = (script: string, ...a: string[]) => [process.execPath, join(repo, 'dist', 'test', 'fuzz', 'targets', script), ...a];
    const inFabric = (argv: string[]) => ['nsenter', `--net=${netns('fabric')}`, ...argv];
    const grpcAddr = controller.admin.replace(/:\d+$/, ':15010');
    const plan: { port: string; argv: string[] }[] = [
      { port: '15008 TLS', argv: inFabric(target('tls.js', `${node('node2')}:15008`, String(inputs), String(seed))) },
      { port: '15008 HTTP/2 frames', argv: inFabric(target('h2.js', `${node('node2')}:15008`, String(inputs), String(seed + 1), 'frames', certDir, sni)) },
      { port: '15008 CONNECT headers', argv: inFabric(target('h2.js', `${node('node2')}:15008`, String(inputs), String(seed + 2), 'connect', certDir, sni)) },
      { port: '15006 plaintext', argv: [join(repo, 'bin', 'ambit'), 'lab', 'exec', 'outside/thrower', '--', ...target('plaintext.js', `${server}:9000`, String(inputs), String(seed + 3))] },
      { port: '15020 admin (agent)', argv: inFabric(target('http1.js', `${node('node2')}:15020`, String(inputs), String(seed + 4))) },
      { port: '15014 admin (controller)', argv: inFabric(target('http1.js', controller.admin, String(inputs), String(seed + 5))) },
      { port: '15010 TLS', argv: inFabric(target('tls.js', grpcAddr, String(inputs), String(seed + 6))) },
      { port: '15010 HTTP/2 frames', argv: inFabric(target('h2.js', grpcAddr, String(inputs), String(seed + 7), 'frames')) },
      { port: '15010 gRPC', argv: inFabric(target('h2.js', grpcAddr, String(inputs), String(seed + 8), 'grpc')) },
    ];
    const results: (Tally & { port: string; alive: boolean; rssAfter: Record<string, number> })[] = [];
    for (const p of plan) {
      process.stderr.write(`fuzz: ${p.port} (${inputs} inputs)...\n`);
      const out = await run(p.argv);
      const tally = JSON.parse(out.trim().split('\n').pop()!) as Tally;
      const now = status().components;
      const alive = watched.every((w) => now.find((c) => c.name === w.name)?.pid === w.pid);
      const rssAfter = Object.fromEntries(watched.map((w) => [w.name, alive ? round(rssMiB(w.pid)) : NaN]));
      for (const w of watched) if (alive) peak[w.name] = Math.max(peak[w.name]!, rssAfter[w.name]!);
      results.push({ ...tally, port: p.port, alive, rssAfter });
      process.stderr.write(`fuzz: ${p.port}: ${tally.inputs} inputs over ${tally.connections} connections in ${tally.seconds}s; processes ${alive ? 'alive' : 'RESTARTED'}\n`);
    }

    // Let sockets drain and the collectors run, then look again.
    await new Promise((r) => setTimeout(r, 30_000));
    const end = status().components;
    const survived = watched.every((w) => {
      const c = end.find((x) => x.name === w.name);
      return c?.pid === w.pid && c.restarts === w.restarts;
    });
    const after = Object.fromEntries(watched.map((w) => [w.name, survived ? rssMiB(w.pid) : NaN]));
    const readyAll = (await Promise.all(watched.map((w) => ready(w.admin)))).every(Boolean);
    const works = await meshWorks(server);

    const report = {
      date: new Date().toISOString(),
      machine: `${execFileSync('nproc').toString().trim()} cores, ${(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) / 1048576).toFixed(0)} GiB, node ${process.version}`,
      inputsPerTarget: inputs,
      seed,
      targets: results,
      memoryMiB: watched.map((w) => ({ process: w.name, before: round(before[w.name]!), peak: round(peak[w.name]!), afterSettling: round(after[w.name]!) })),
      survived,
      ready: readyAll,
      dataPathWorks: works,
    };
    mkdirSync(join(repo, 'bench', 'results'), { recursive: true });
    writeFileSync(join(repo, 'bench', 'results', 'fuzz-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(markdown(report));
    if (!survived || !readyAll || !works) process.exitCode = 1;
  } finally {
    execFileSync(join(repo, 'bin', 'ambit'), ['lab', 'down'], { env, stdio: 'ignore' });
  }
}

const round = (n: number) => Math.round(n * 10) / 10;

function markdown(r: { date: string; machine: string; targets: (Tally & { port: string; alive: boolean; rssAfter: Record<string, number> })[]; memoryMiB: { process: string; before: number; peak: number; afterSettling: number }[]; survived: boolean; ready: boolean; dataPathWorks: boolean }): string {
  const top = (o: Record<string, number>) =>
    Object.entries(o)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, v]) => `${k} ${v}`)
      .join('; ');
  return [
    `Fuzzing, ${r.date}, ${r.machine}`,
    '',
    '| port | inputs | connections | seconds | processes | RSS after it (MiB) | most frequent outcomes |',
    '|---|---|---|---|---|---|---|',
    ...r.targets.map((t) => `| ${t.port} | ${t.inputs} | ${t.connections} | ${t.seconds} | ${t.alive ? 'alive' : 'RESTARTED'} | ${Object.values(t.rssAfter).join(' / ')} | ${top(t.outcomes)} |`),
    '',
    '| process | RSS before (MiB) | peak | 30 s after |',
    '|---|---|---|---|',
    ...r.memoryMiB.map((m) => `| ${m.process} | ${m.before} | ${m.peak} | ${m.afterSettling} |`),
    '',
    `all processes survived: ${r.survived}; all ready: ${r.ready}; mesh and plaintext calls work afterwards: ${r.dataPathWorks}`,
    '',
  ].join('\n');
}

await main();
