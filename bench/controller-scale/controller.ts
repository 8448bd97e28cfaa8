/**
 * The benchmark's controller process: the real controller (startController,
 * configured from the environment as controller/main.ts is) and nothing else
 * but a small IPC shim, so this process's CPU and memory are the
 * controller's. The shim samples RSS, records when the model applied each
 * change (a model listener, called inside the model's single writer) and when
 * the config server wrote its pushes and read the ACKs (its diagnostics
 * channels), and waits for the config server to converge.
 */
import diagnostics from 'node:diagnostics_channel';
import { startController, type RunningController } from '../../controller/app.js';
import { loadControllerConfig } from '../../controller/config.js';
import type { WatchedKind } from '../../controller/model/index.js';
import { ACK_CHANNEL, PUSH_CHANNEL, type PushEvent } from '../../controller/xds/index.js';
import { clock, cpuSeconds, serve } from './ipc.js';
import type { Write } from './shape.js';

const POLL_MS = 2;
let ctl: RunningController | undefined;
let rssPeak = 0;
/** When the model applied events, with the resourceVersion it had read up to for that kind. */
let applied: { at: number; kind: WatchedKind; rv: number }[] = [];

/** When the config server wrote each message (and its size) and read each ACK, since the last settle. */
let pushes: { at: number; type: string; bytes: number }[] = [];
let acks: number[] = [];
diagnostics.subscribe(PUSH_CHANNEL, (e) => pushes.push({ at: clock(), type: (e as PushEvent).type, bytes: (e as PushEvent).bytes }));
diagnostics.subscribe(ACK_CHANNEL, () => acks.push(clock()));

const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 50);
sampler.unref();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

function stats() {
  const mem = process.memoryUsage();
  const out = { cpuSeconds: cpuSeconds(), rssMiB: mem.rss / 2 ** 20, rssPeakMiB: Math.max(rssPeak, mem.rss) / 2 ** 20, heapUsedMiB: mem.heapUsed / 2 ** 20 };
  rssPeak = mem.rss;
  return out;
}

serve({
  start: async () => {
    ctl = await startController(loadControllerConfig(process.env));
    const model = ctl.model;
    model.onChange((c) => applied.push({ at: clock(), kind: c.kind, rv: Number(model.observedResourceVersion(c.kind)) }));
    await ctl.synced;
    return { grpcPort: ctl.grpcPort, counts: model.counts() };
  },
  /** Resolves once `n` agents are connected and hold the current config. */
  agents: async ({ n, timeoutMs }: { n: number; timeoutMs: number }) => {
    await until(`${n} agents converged`, () => ctl!.xds.connectedCount === n && ctl!.xds.converged(), timeoutMs);
    const byType: Record<string, number> = {};
    for (const p of pushes) byType[p.type] = (byType[p.type] ?? 0) + p.bytes;
    const out = { messages: pushes.length, bytes: pushes.reduce((s, p) => s + p.bytes, 0), byType };
    [pushes, acks, applied] = [[], [], []];
    return out;
  },
  /**
   * Waits until the model has applied every write of a change and every
   * agent holds the resulting config; returns when the model applied the last
   * write, when the last message was written and the last ACK read, and the
   * bytes sent.
   */
  settle: async ({ writes, timeoutMs }: { writes: Write[]; timeoutMs: number }) => {
    const model = ctl!.model;
    const seen = () => writes.every((w) => Number(model.observedResourceVersion(w.kind as WatchedKind)) >= w.rv);
    await until('the model to apply the change', seen, timeoutMs);
    const last = writes.reduce((a, b) => (b.rv > a.rv ? b : a));
    const appliedAt = applied.find((a) => a.kind === last.kind && a.rv >= last.rv)?.at;
    applied = [];
    await until('every agent to ACK the change', () => ctl!.xds.converged(), timeoutMs);
    const out = { appliedAt, lastPushAt: Math.max(...pushes.map((p) => p.at)), lastAckReadAt: Math.max(...acks), messages: pushes.length, bytes: pushes.reduce((s, p) => s + p.bytes, 0) };
    [pushes, acks] = [[], []];
    return out;
  },
  stats,
  stop: async () => {
    await ctl?.stop();
    setImmediate(() => process.exit(0));
  },
});
