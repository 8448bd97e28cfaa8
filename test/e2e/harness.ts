import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { AuditEntry } from '../../lab/apiserver/index.js';

/** Helpers for end-to-end tests: drive a uniquely named lab through the real CLI. */

export const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');
export const fixture = (name: string) => resolve(repoRoot, 'test', 'e2e', 'fixtures', name);

/** End-to-end tests need root; in CI they must fail rather than skip. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('end-to-end tests need root (network namespaces, cgroups, eBPF): run them as root');
  }
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export class LabHarness {
  /** A fresh name per test file, so a test never touches a lab it did not boot, unless the caller or AMBIT_E2E_LAB names it (one to share a machine under, say). */
  readonly name: string;
  /** Set for every command, and so for the lab's own processes (`lab up` passes its environment on). */
  private readonly env: Record<string, string>;

  constructor(opts: { name?: string; env?: Record<string, string> } = {}) {
    this.name = opts.name ?? (process.env.AMBIT_E2E_LAB || `e2e${randomBytes(3).toString('hex')}`);
    this.env = opts.env ?? {};
  }

  ambit(args: string[], timeoutMs = 240_000): Promise<Run> {
    return new Promise((resolvePromise) => {
      execFile(
        resolve(repoRoot, 'bin', 'ambit'),
        args,
        { env: { ...process.env, ...this.env, AMBIT_LAB: this.name }, timeout: timeoutMs, maxBuffer: 16 << 20, cwd: repoRoot },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolvePromise({ code, stdout, stderr });
        },
      );
    });
  }

  async must(args: string[]): Promise<string> {
    const r = await this.ambit(args);
    if (r.code !== 0) throw new Error(`ambit ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
    return r.stdout;
  }

  async status(): Promise<LabStatusJson> {
    return JSON.parse(await this.must(['lab', 'status', '--json'])) as LabStatusJson;
  }

  /** Runs the connect fixture in a pod and returns its JSON line. */
  async connect(pod: string, host: string, port: number): Promise<ConnectResult> {
    const r = await this.ambit(['lab', 'exec', pod, '--', 'node', fixture('connect.mjs'), host, String(port)], 30_000);
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(line) as ConnectResult;
    } catch {
      throw new Error(`connect in ${pod} printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
  }

  /** Every JSON line the node agent of a node logged (pino). */
  async componentLog(node: string): Promise<Record<string, unknown>[]> {
    const st = await this.status();
    const agent = st.components.find((c) => c.kind === 'node-agent' && c.node === node);
    if (!agent) throw new Error(`no node agent on ${node}`);
    return jsonLines<Record<string, unknown>>(agent.log);
  }

  /** The node agent's access-log lines on a node. */
  async accessLog(node: string): Promise<AccessLine[]> {
    return (await this.componentLog(node)).filter((l) => l['component'] === 'node-agent.access') as unknown as AccessLine[];
  }

  /** The first access-log line on a node that `match`es, polled for (bounded): logs reach the file within a second. */
  async awaitAccessLine(node: string, match: (l: AccessLine) => boolean, attempts = 40): Promise<AccessLine | undefined> {
    let line: AccessLine | undefined;
    await eventually(async () => (line = (await this.accessLog(node)).find(match)) !== undefined, attempts);
    return line;
  }
}

export interface ConnectResult {
  error?: string;
  local?: { ip: string; port: number };
  /** The peer address getpeername() reported. */
  remote?: { ip: string; port: number };
  reply?: { pod: string; peer: string; local: string };
}

export interface AccessLine {
  reporter: 'source' | 'destination' | 'waypoint';
  src: { ip: string; port: number; workload?: string; namespace?: string; principal?: string };
  dst: { ip: string; port: number; workload?: string; namespace?: string; service?: string; principal?: string };
  original_dst?: { ip: string; port: number };
  result: string;
  error?: string;
}

export interface LabStatusJson {
  phase: string;
  nodes: { name: string; ip: string; netns: string }[];
  pods: { namespace: string; name: string; ip: string; node: string; netns: string; meshed: boolean; phase: string }[];
  services: { namespace: string; name: string; clusterIP: string; ports: { port: number }[] }[];
  components: { kind: string; node?: string; pid?: number; admin: string; log: string; restarts: number }[];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET on a component's admin address, from inside the lab's fabric namespace. */
export function adminGet(lab: LabHarness, address: string, path: string): Promise<string> {
  const prefix = `ambit-${lab.name}-`;
  const script = `fetch('http://${address}${path}').then(r => r.text()).then(t => process.stdout.write(t), e => { console.error(e.message); process.exit(1); })`;
  return new Promise((resolvePromise, reject) => {
    execFile('nsenter', [`--net=/run/netns/${prefix}fabric`, process.execPath, '-e', script], { timeout: 10_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${address}${path}: ${stderr || err.message}`)) : resolvePromise(stdout),
    );
  });
}

/** Runs a command in one of the lab's network namespaces (`fabric`, `node1`, ...). */
export function inLabNetns(lab: LabHarness, netns: string, argv: string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolvePromise) => {
    execFile('nsenter', [`--net=/run/netns/ambit-${lab.name}-${netns}`, ...argv], { timeout: timeoutMs, maxBuffer: 16 << 20, cwd: repoRoot }, (err, stdout, stderr) =>
      resolvePromise({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** tcpdump (ASCII) on a lab namespace's eth0 until `stop()`, which returns what it printed. */
export async function startCapture(lab: LabHarness, netns: string, filter: string[] = ['tcp']): Promise<{ stop(): Promise<string> }> {
  const tcpdump = spawn('nsenter', [`--net=/run/netns/ambit-${lab.name}-${netns}`, 'tcpdump', '-i', 'eth0', '-n', '-A', '-s0', '-l', ...filter], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let text = '';
  tcpdump.stdout.on('data', (d: Buffer) => (text += d.toString('latin1')));
  await sleep(500);
  return {
    stop: async () => {
      await sleep(300);
      tcpdump.kill('SIGTERM');
      await new Promise((res) => tcpdump.once('exit', res));
      return text;
    },
  };
}

export interface LoadResult {
  ok: number;
  failed: number;
  errors: string[];
  pods: string[];
}

/** COUNT HTTP requests from a pod (see fixtures/load.mjs). */
export async function load(lab: LabHarness, pod: string, url: string, count = 10, concurrency = 2): Promise<LoadResult> {
  const r = await lab.ambit(['lab', 'exec', pod, '--', 'node', fixture('load.mjs'), url, String(count), String(concurrency)], 120_000);
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as LoadResult;
  } catch {
    throw new Error(`load from ${pod} printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

/** Applies (or deletes) manifests given as text. */
export async function applyText(lab: LabHarness, yaml: string, verb: 'apply' | 'delete' = 'apply'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ambit-e2e-'));
  const file = join(dir, 'manifest.yaml');
  writeFileSync(file, yaml);
  await lab.must(['lab', verb, '-f', file]);
}

/**
 * A path as process `pid` sees it (its mounts included), through /proc/PID/root. /var/run is an
 * absolute symlink to /run, which the kernel would resolve against the test's root, not the
 * process's: resolve it here.
 */
export const inside = (pid: number | undefined, path: string) => `/proc/${pid}/root${path.replace(/^\/var\/run\//, '/run/')}`;

/** The environment process `pid` was started with. */
export const environ = (pid: number | undefined): Record<string, string> =>
  Object.fromEntries(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

/** Polls (bounded) until `check` is true; returns whether it became true. */
export async function eventually(check: () => Promise<boolean>, attempts = 40, everyMs = 250): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return false;
}

/** Waits (bounded) until the node agent of `node` runs again after `before`, restarted by the lab, and is ready. */
export async function agentRestarted(lab: LabHarness, node: string, before: { restarts: number }): Promise<boolean> {
  return eventually(
    async () => {
      const a = (await lab.status()).components.find((c) => c.kind === 'node-agent' && c.node === node);
      return !!a && a.restarts > before.restarts && a.pid !== undefined && (await adminGet(lab, a.admin, '/ready').then(() => true, () => false));
    },
    120,
    250,
  );
}

export interface Opened {
  id: number;
  pod: string;
  local: { ip: string; port: number };
}

/** Drives fixtures/conns.mjs in a pod through `lab exec`: one command, one answer, in order. */
export class Conns {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: ((line: string) => void)[] = [];
  private stderr = '';

  constructor(lab: LabHarness, pod: string) {
    this.child = spawn(resolve(repoRoot, 'bin', 'ambit'), ['lab', 'exec', pod, '--', 'node', fixture('conns.mjs')], {
      env: { ...process.env, AMBIT_LAB: lab.name },
      cwd: repoRoot,
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdin.on('error', () => {}); // the process is gone; a pending ask times out and says so
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.(line));
  }

  private ask(command: string): Promise<Record<string, unknown>> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to "${command}" within 15 s; stderr: ${this.stderr}`)), 15_000);
      this.waiting.push((line) => {
        clearTimeout(timer);
        resolvePromise(JSON.parse(line) as Record<string, unknown>);
      });
      this.child.stdin.write(`${command}\n`);
    });
  }

  async open(host: string, port: number): Promise<Opened> {
    const r = await this.ask(`open ${host} ${port}`);
    if (typeof r['pod'] !== 'string') throw new Error(`open ${host}:${port} failed: ${JSON.stringify(r)}`);
    return r as unknown as Opened;
  }

  /** Sends a line on connection `id` and waits for the server to echo it; the outcome as the fixture reports it. */
  async ping(id: number): Promise<{ echo?: string; error?: string }> {
    return (await this.ask(`ping ${id}`)) as { echo?: string; error?: string };
  }

  async close(id: number): Promise<void> {
    const r = await this.ask(`close ${id}`);
    assert.deepEqual(r, { closed: id });
  }

  /** Ends stdin: the fixture closes what is still open and exits. */
  stop(): void {
    this.child.stdin.end();
  }

  /** For cleanup after a failure: ends the `lab exec` process if it is still running. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
  }
}

/** What `probe.mjs` reports for one target: the pod that answered, or the error. */
export interface Probe {
  target: string;
  pod?: string;
  error?: string;
}

/** Opens one connection from `pod` to each `host:port` at once (fixtures/probe.mjs). */
export async function probe(lab: LabHarness, pod: string, targets: string[]): Promise<Probe[]> {
  const r = await lab.ambit(['lab', 'exec', pod, '--', 'node', fixture('probe.mjs'), ...targets], 30_000);
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Probe[];
  } catch {
    throw new Error(`probe in ${pod} printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

/** Connections from `pod`: every `allowed` target answers and every `refused` one does not (polled while config settles). */
export async function expectConnections(lab: LabHarness, pod: string, e: { allowed?: string[]; refused?: string[] }): Promise<Probe[]> {
  const allowed = e.allowed ?? [];
  const targets = [...allowed, ...(e.refused ?? [])];
  let last: Probe[] = [];
  const settled = await eventually(
    async () => {
      last = await probe(lab, pod, targets);
      return last.every((r, i) => (r.pod !== undefined) === i < allowed.length);
    },
    20,
    250,
  );
  const show = (list: Probe[]) => list.map((r) => `${r.target} -> ${r.pod ?? r.error}`).join(', ');
  assert.ok(settled, `from ${pod}: expected allowed [${allowed.join(', ')}], refused [${(e.refused ?? []).join(', ')}]; got ${show(last)}`);
  return last;
}

/** A status condition, as `kubectl get -o json` shows it. */
export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** Waits (bounded, about 10 s) for a condition of an object (`resource`: a kubectl plural) to satisfy `check`, and returns it. */
export async function awaitCondition(lab: LabHarness, resource: string, ns: string, name: string, type: string, check: (c: Condition) => boolean = () => true): Promise<Condition> {
  let last: Condition | undefined;
  const ok = await eventually(async () => {
    const r = await lab.ambit(['lab', 'kubectl', 'get', resource, name, '-n', ns, '-o', 'json'], 30_000);
    last = r.code === 0 ? (JSON.parse(r.stdout) as { status?: { conditions?: Condition[] } }).status?.conditions?.find((c) => c.type === type) : undefined;
    return last !== undefined && check(last);
  }, 40);
  assert.ok(ok, `${resource} ${ns}/${name}: condition ${type} never as expected; last: ${JSON.stringify(last)}`);
  return last!;
}

/** Every decision the lab's API server logged on a service account's request (`lab up --chart`). */
export function auditLog(lab: LabHarness): AuditEntry[] {
  return jsonLines<AuditEntry>(`/run/ambit/labs/${lab.name}/apiserver-audit.jsonl`);
}

/**
 * The JSON lines of a log another process is still appending to. Only text up to the last
 * newline counts: a reader can catch a write half copied into the page cache, and that torn
 * tail is a line still being written, not a malformed one. Lines that are not JSON objects
 * (a runtime's warning in a pod's log) are skipped.
 */
export function jsonLines<T>(file: string): T[] {
  const text = readFileSync(file, 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as T);
}

/** A copy of charts/ambit in `dir`/chart with `from` replaced by `to` in templates/`template` (which must contain it); returns the copy's folder. */
export function chartCopyWith(dir: string, template: string, from: string, to: string): string {
  const chart = join(dir, 'chart');
  cpSync(join(repoRoot, 'charts', 'ambit'), chart, { recursive: true });
  const file = join(chart, 'templates', template);
  const text = readFileSync(file, 'utf8');
  assert.ok(text.includes(from), `templates/${template} no longer has ${JSON.stringify(from)}`);
  writeFileSync(file, text.replace(from, to));
  return chart;
}
