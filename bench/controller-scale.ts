/**
 * The controller at scale (`npm run bench:controller`, after `npm run build`):
 * a lab API server holding 100 namespaces, 1,000 Services, 2,000 pods on 100
 * nodes and a few hundred policies; the real controller against it (informers,
 * model, gRPC over TLS, status writes); 100 node agents as gRPC clients, each
 * authenticated as its node. Then a sequence of changes of every kind, each
 * timed from its first API write to the last ACK it caused. Each change
 * starts GAP_MS after the previous one converged: isolated changes, as the
 * push debounce sees them (GAP_MS=0 makes a back-to-back stream instead,
 * which the debounce coalesces).
 *
 * Separate processes, so that the controller's CPU and memory are its own:
 * this orchestrator (forks, asks, prints), the controller
 * (controller-scale/controller.ts), the cluster: API server, store and the
 * writer of changes (controller-scale/cluster.ts), and AGENT_PROCS processes
 * of agents (controller-scale/agents.ts), so that 100 agents do not all wait
 * behind one event loop. Each phase runs a fresh controller and fresh agents
 * against the same cluster, one phase per debounce setting.
 *
 * Settings (environment): NODES=100 NAMESPACES=100 SERVICES=1000 PODS=2000
 * CHANGES=200 SEED=1 GAP_MS=200 AGENT_PROCS=2 DEBOUNCES=100ms,0ms (AMBIT_PUSH_DEBOUNCE of each phase);
 * CPU_PROF=DIR writes a V8 CPU profile of each controller phase there.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { caller, clock, type Caller } from './controller-scale/ipc.js';
import { nodeName, type ChangeKind, type Shape, type Write } from './controller-scale/shape.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const RESULTS = resolve(here, '../../bench/results/controller-scale-latest.json');
/** No single step may take longer; the whole run is bounded by the count of steps. */
const STEP_TIMEOUT_MS = 30_000;
const SYNC_TIMEOUT_MS = 180_000;

const int = (name: string, fallback: number): number => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v <= 0 || v > 100_000) throw new Error(`${name} must be a positive integer, got ${process.env[name]}`);
  return v;
};

const shape: Shape = { nodes: int('NODES', 100), namespaces: int('NAMESPACES', 100), services: int('SERVICES', 1000), pods: int('PODS', 2000), seed: int('SEED', 1) };
const changes = int('CHANGES', 200);
const gapMs = process.env.GAP_MS === '0' ? 0 : int('GAP_MS', 200);
const agentProcs = int('AGENT_PROCS', 2);
const debounces = (process.env.DEBOUNCES ?? '100ms,0ms').split(',').map((s) => s.trim()).filter(Boolean);

type Child = { child: ChildProcess; rpc: Caller };

interface Stats {
  cpuSeconds: number;
  rssMiB: number;
  rssPeakMiB: number;
  heapUsedMiB: number;
}
interface Report {
  lastAckAt: number;
  messages: number;
  nodes: string[];
}
interface Sample {
  kind: ChangeKind;
  what: string;
  ms: number;
  /** API write -> the model applied its last write (informer delivery). */
  informerMs: number | undefined;
  /** API write -> the controller wrote the last message the change caused. */
  lastPushMs: number;
  /** API write -> the controller read the last ACK. */
  ackReadMs: number;
  messages: number;
  /** Config bytes the controller sent for the change (all agents). */
  bytes: number;
  agents: number;
}

const quantile = (sorted: number[], q: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: s.at(-1) ?? NaN, mean };
};
const r1 = (x: number) => Math.round(x * 10) / 10;

function start(module: string, name: string, env: NodeJS.ProcessEnv, execArgv: string[] = []): Child {
  const child = fork(resolve(here, module), [], { env: { ...process.env, AMBIT_LOG_LEVEL: process.env.AMBIT_LOG_LEVEL ?? 'warn', ...env }, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return { child, rpc: caller(child, name) };
}

/** Asks a child to stop, then kills it (by its own PID) if it has not exited in time. */
async function stop(p: Child | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = once(p.child, 'exit');
  await p.rpc.call('stop', undefined, 10_000).catch(() => undefined);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** The agents, spread over their processes: each call goes to all of them and the answers are merged. */
class Fleet {
  constructor(private readonly procs: Child[]) {}

  /** Starts one agent per node; resolves once all have synced, with when the last one did and what each holds. */
  async start(address: string, bundlePem: string) {
    const nodes = Array.from({ length: shape.nodes }, (_, i) => nodeName(i));
    const parts = await Promise.all(
      this.procs.map((p, k) =>
        p.rpc.call<{ lastAckAt: number; messages: number; sizes: Record<string, number[]> }>('start', { address, bundlePem, nodes: nodes.filter((_, i) => i % this.procs.length === k) }, SYNC_TIMEOUT_MS),
      ),
    );
    const types = Object.keys(parts[0]!.sizes);
    const resourcesPerAgent = Object.fromEntries(
      types.map((t) => {
        const all = parts.flatMap((p) => p.sizes[t]!);
        return [t, { min: Math.min(...all), max: Math.max(...all), mean: all.reduce((s, n) => s + n, 0) / all.length }];
      }),
    );
    return { lastAckAt: Math.max(...parts.map((p) => p.lastAckAt)), messages: parts.reduce((s, p) => s + p.messages, 0), resourcesPerAgent };
  }

  async report(since: number): Promise<{ lastAckAt: number; messages: number; agents: number }> {
    const parts = await Promise.all(this.procs.map((p) => p.rpc.call<Report>('report', since)));
    return { lastAckAt: Math.max(...parts.map((p) => p.lastAckAt)), messages: parts.reduce((s, p) => s + p.messages, 0), agents: parts.reduce((s, p) => s + p.nodes.length, 0) };
  }

  async cpuSeconds(): Promise<number> {
    return (await Promise.all(this.procs.map((p) => p.rpc.call<number>('cpuSeconds')))).reduce((a, b) => a + b, 0);
  }

  async stopAgents(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.rpc.call('stopAgents').catch(() => undefined)));
  }
}

async function phase(cluster: Caller, fleet: Fleet, cfg: { apiUrl: string; token: string; tokens: Record<string, string> }, caDir: string, debounce: string) {
  const ctl = start('controller-scale/controller.js', 'controller', {
    AMBIT_KUBE_SERVER: cfg.apiUrl,
    AMBIT_KUBE_TOKEN: cfg.token,
    AMBIT_CA_DIR: caDir,
    AMBIT_AGENT_TOKENS: JSON.stringify(cfg.tokens),
    AMBIT_GRPC_HOST: '127.0.0.1',
    AMBIT_GRPC_PORT: '0',
    AMBIT_ADMIN_HOST: '127.0.0.1',
    AMBIT_ADMIN_PORT: '0',
    AMBIT_PUSH_DEBOUNCE: debounce,
  }, process.env.CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.CPU_PROF] : []);
  try {
    const t = Date.now();
    const { grpcPort, counts } = await ctl.rpc.call<{ grpcPort: number; counts: Record<string, number> }>('start', undefined, SYNC_TIMEOUT_MS);
    const modelSyncMs = Date.now() - t;
    const afterModel = await ctl.rpc.call<Stats>('stats');
    const syncFrom = clock();
    const synced = await fleet.start(`127.0.0.1:${grpcPort}`, await cluster.call<string>('bundle'));
    const sync = { ms: synced.lastAckAt - syncFrom, messages: synced.messages, resourcesPerAgent: synced.resourcesPerAgent };
    const { bytes: syncBytes, byType: syncBytesByType } = await ctl.rpc.call<{ bytes: number; byType: Record<string, number> }>('agents', { n: shape.nodes, timeoutMs: SYNC_TIMEOUT_MS }, SYNC_TIMEOUT_MS + 1000);
    const afterSync = await ctl.rpc.call<Stats>('stats');
    const clusterCpuBefore = (await cluster.call<number>('cpuSeconds')) + (await fleet.cpuSeconds());
    const samples: Sample[] = [];
    let silent = 0;
    for (let i = 0; i < changes; i++) {
      if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      const c = await cluster.call<{ kind: ChangeKind; what: string; writes: Write[]; t0: number }>('change');
      const { appliedAt, lastPushAt, lastAckReadAt, bytes } = await ctl.rpc.call<{ appliedAt: number | undefined; lastPushAt: number; lastAckReadAt: number; bytes: number }>(
        'settle',
        { writes: c.writes, timeoutMs: STEP_TIMEOUT_MS },
        STEP_TIMEOUT_MS * 2 + 1000,
      );
      const r = await fleet.report(c.t0);
      if (r.messages === 0) {
        silent++;
        continue;
      }
      samples.push({
        kind: c.kind,
        what: c.what,
        ms: r.lastAckAt - c.t0,
        informerMs: appliedAt === undefined ? undefined : appliedAt - c.t0,
        lastPushMs: lastPushAt - c.t0,
        ackReadMs: lastAckReadAt - c.t0,
        messages: r.messages,
        bytes,
        agents: r.agents,
      });
    }
    const afterChanges = await ctl.rpc.call<Stats>('stats');
    const clusterCpu = (await cluster.call<number>('cpuSeconds')) + (await fleet.cpuSeconds()) - clusterCpuBefore;
    const byKind = Object.fromEntries(
      [...new Set(samples.map((s) => s.kind))].map((k) => {
        const of = samples.filter((s) => s.kind === k);
        return [k, { latencyMs: summary(of.map((s) => s.ms)), lastPushMs: summary(of.map((s) => s.lastPushMs)), bytes: summary(of.map((s) => s.bytes)), agentsReached: summary(of.map((s) => s.agents)) }];
      }),
    );
    return {
      debounce,
      model: { counts, syncMs: modelSyncMs, cpuSeconds: afterModel.cpuSeconds, rssPeakMiB: afterModel.rssPeakMiB },
      agentsSync: { ms: sync.ms, messages: sync.messages, bytes: syncBytes, bytesPerAgent: syncBytes / shape.nodes, bytesPerAgentByType: Object.fromEntries(Object.entries(syncBytesByType).map(([t, b]) => [t, b / shape.nodes])), resourcesPerAgent: sync.resourcesPerAgent, cpuSeconds: afterSync.cpuSeconds - afterModel.cpuSeconds, rssPeakMiB: afterSync.rssPeakMiB, rssMiB: afterSync.rssMiB },
      changes: {
        measured: samples.length,
        withoutPush: silent,
        latencyMs: summary(samples.map((s) => s.ms)),
        informerMs: summary(samples.flatMap((s) => (s.informerMs === undefined ? [] : [s.informerMs]))),
        lastPushMs: summary(samples.map((s) => s.lastPushMs)),
        ackReadMs: summary(samples.map((s) => s.ackReadMs)),
        cpuSeconds: afterChanges.cpuSeconds - afterSync.cpuSeconds,
        /** The other processes: API server, store writes and the agents, on the same cores. */
        clusterCpuSeconds: clusterCpu,
        rssPeakMiB: afterChanges.rssPeakMiB,
        rssEndMiB: afterChanges.rssMiB,
        heapUsedEndMiB: afterChanges.heapUsedMiB,
        bytesPerChange: summary(samples.map((s) => s.bytes)),
        bytesPerAgentReached: summary(samples.map((s) => s.bytes / s.agents)),
        agentsReached: summary(samples.map((s) => s.agents)),
        byKind,
      },
      samples,
    };
  } finally {
    // Agents first, so they do not spend the controller's shutdown reconnecting.
    await fleet.stopAgents();
    await stop(ctl);
  }
}

function print(results: Awaited<ReturnType<typeof phase>>[]): void {
  const rows: string[][] = [['debounce', 'agents synced s', 'sync MB', 'sync CPU s', 'changes', 'p50 ms', 'p99 ms', 'max ms', 'informer p50 ms', 'last push p50 ms', 'last push p99 ms', 'CPU s', 'CPU ms/change', 'API+agents CPU s', 'RSS peak MiB', 'RSS end MiB', 'bytes/change mean', 'bytes/agent reached mean', 'agents reached mean']];
  for (const p of results) {
    const c = p.changes;
    rows.push([p.debounce, String(r1(p.agentsSync.ms / 1000)), String(r1(p.agentsSync.bytes / 1e6)), String(r1(p.agentsSync.cpuSeconds)), String(c.measured), String(r1(c.latencyMs.p50)), String(r1(c.latencyMs.p99)), String(r1(c.latencyMs.max)), String(r1(c.informerMs.p50)), String(r1(c.lastPushMs.p50)), String(r1(c.lastPushMs.p99)), String(r1(c.cpuSeconds)), String(r1((c.cpuSeconds * 1000) / (c.measured || 1))), String(r1(c.clusterCpuSeconds)), String(Math.round(Math.max(c.rssPeakMiB, p.agentsSync.rssPeakMiB, p.model.rssPeakMiB))), String(Math.round(c.rssEndMiB)), String(Math.round(c.bytesPerChange.mean)), String(Math.round(c.bytesPerAgentReached.mean)), String(r1(c.agentsReached.mean))]);
  }
  const table = (rs: string[][]) => rs.map((r) => `| ${r.join(' | ')} |`).join('\n');
  console.log(table([rows[0]!, rows[0]!.map(() => '---'), ...rows.slice(1)]));
  for (const p of results) {
    console.log(`\nby kind, debounce ${p.debounce}:`);
    const kinds = [['kind', 'n', 'p50 ms', 'p99 ms', 'max ms', 'last push p50 ms', 'last push p99 ms', 'bytes mean', 'agents reached mean']];
    for (const [k, v] of Object.entries(p.changes.byKind)) {
      kinds.push([k, String(v.latencyMs.n), String(r1(v.latencyMs.p50)), String(r1(v.latencyMs.p99)), String(r1(v.latencyMs.max)), String(r1(v.lastPushMs.p50)), String(r1(v.lastPushMs.p99)), String(Math.round(v.bytes.mean)), String(r1(v.agentsReached.mean))]);
    }
    console.log(table([kinds[0]!, kinds[0]!.map(() => '---'), ...kinds.slice(1)]));
    console.log(`resources per agent after sync: ${Object.entries(p.agentsSync.resourcesPerAgent).map(([t, v]) => `${t} ${v.min}..${v.max} (mean ${r1(v.mean)})`).join(', ')}`);
    const perAgent = p.agentsSync.bytesPerAgentByType;
    console.log(`bytes per agent at sync: ${Object.entries(perAgent).map(([t, b]) => `${t} ${r1(b / 1024)} KiB (${Math.round(b / (p.agentsSync.resourcesPerAgent[t]?.mean || 1))} B each)`).join(', ')}`);
  }
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const caDir = await mkdtemp(join(os.tmpdir(), 'ambit-bench-ctl-'));
  let cluster: Child | undefined;
  const agents: Child[] = [];
  const results: Awaited<ReturnType<typeof phase>>[] = [];
  try {
    cluster = start('controller-scale/cluster.js', 'cluster', {});
    for (let k = 0; k < agentProcs; k++) agents.push(start('controller-scale/agents.js', `agents-${k}`, {}));
    const cfg = await cluster.rpc.call<{ apiUrl: string; token: string; tokens: Record<string, string> }>('start', shape, SYNC_TIMEOUT_MS);
    for (const d of debounces) {
      console.error(`phase: debounce ${d}`);
      results.push(await phase(cluster.rpc, new Fleet(agents), cfg, caDir, d));
    }
  } finally {
    await Promise.all(agents.map(stop));
    await stop(cluster);
    await rm(caDir, { recursive: true, force: true });
  }
  print(results);
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: r1(os.totalmem() / 2 ** 30), kernel: os.release(), node: process.version };
  const out = { date: new Date().toISOString(), machine, loadavgBefore: loadBefore, loadavgAfter: os.loadavg(), shape, changes, gapMs, phases: results };
  await writeFile(RESULTS, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nwrote ${RESULTS}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
