import { Worker } from 'node:worker_threads';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { exponentialBackoff, type Backoff } from '../../lib/backoff.js';
import type { Logger } from '../../lib/log.js';
import { RESOURCE_TYPES } from '../../lib/xds/index.js';
import type { CertManager } from '../identity/certs.js';
import { newBalancerBuffer } from '../proxy/balancer-state.js';
import type { MeshState, StateEvent } from '../state/mesh-state.js';
import type { CertMaterial } from './certs.js';
import type { FromWorker, ToWorker } from './protocol.js';

interface Slot {
  index: number;
  worker: Worker | undefined;
  listening: boolean;
  restarts: number;
  backoff: Backoff;
}

export interface WorkerPoolOptions {
  /** The worker's script (the node agent's data plane, or a waypoint's). */
  entry: string;
  /** Each worker's `workerData`: its index, and the load-balancing buffer all of them share. */
  data: (index: number, balancer: SharedArrayBuffer) => unknown;
  count: number;
  state: MeshState;
  certs: CertManager;
  log: Logger;
  /** V8 young generation per worker (MiB); config.ts says why it is large. */
  youngGenerationMb?: number;
}

/**
 * Data-path workers (the node agent's, a waypoint's), seen from the main thread. Each worker gets
 * every state update the main thread applies (a new or restarted one first
 * gets the whole state), every certificate change, and answers queries for
 * metrics and stats. A worker that dies is restarted with backoff; the others
 * keep serving, and the kernel stops sending it connections the moment its
 * listeners are gone.
 */
export class WorkerPool {
  private readonly slots: Slot[];
  /** Outlives any one worker: a restarted worker balances on with the others' counts. */
  private readonly balancer = newBalancerBuffer();
  private readonly pending = new Map<number, (value: unknown) => void>();
  private nextQuery = 0;
  private stopping = false;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly o: WorkerPoolOptions) {
    this.slots = Array.from({ length: o.count }, (_, index) => ({ index, worker: undefined, listening: false, restarts: 0, backoff: exponentialBackoff(200, 10_000) }));
    this.unsubscribe.push(
      o.state.observe((e: StateEvent) => this.broadcast(e.kind === 'complete' ? { kind: 'complete' } : { kind: 'update', type: e.type, upserts: e.upserts, removals: e.removals })),
      o.certs.onChange((identity, cert) => this.broadcast({ kind: 'cert', identity, material: cert && material(cert) })),
    );
  }

  start(): void {
    for (const slot of this.slots) this.spawn(slot);
  }

  /** True once every worker listens (each starts when the config is complete). */
  get listening(): boolean {
    return this.slots.every((s) => s.listening);
  }

  private markAllListening: () => void = () => {};
  /** Resolves the first time every worker listens. */
  readonly allListening: Promise<void> = new Promise((resolve) => (this.markAllListening = resolve));

  private spawn(slot: Slot): void {
    const worker = new Worker(this.o.entry, {
      workerData: this.o.data(slot.index, this.balancer),
      ...(this.o.youngGenerationMb ? { resourceLimits: { maxYoungGenerationSizeMb: this.o.youngGenerationMb } } : {}),
    });
    slot.worker = worker;
    slot.listening = false;
    worker.on('message', (m: FromWorker) => this.received(slot, m));
    worker.on('error', (err) => this.o.log.error({ worker: slot.index, err: err.stack ?? err.message }, 'data-path worker crashed'));
    worker.on('exit', (code) => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      slot.listening = false;
      if (this.stopping) return;
      slot.restarts++;
      const delay = slot.backoff.next();
      this.o.log.warn({ worker: slot.index, code, restarts: slot.restarts, retryInMs: delay }, 'data-path worker exited; restarting it (the others keep serving)');
      setTimeout(() => !this.stopping && this.spawn(slot), delay).unref();
    });
    // The whole state first, then the certificates it will need: the same order a running worker saw them in.
    for (const type of RESOURCE_TYPES) worker.postMessage({ kind: 'update', type, upserts: this.o.state.all(type), removals: [] } satisfies ToWorker);
    for (const { identity, cert } of this.o.certs.all()) worker.postMessage({ kind: 'cert', identity, material: material(cert) } satisfies ToWorker);
    if (this.o.state.complete) worker.postMessage({ kind: 'complete' } satisfies ToWorker);
  }

  private received(slot: Slot, m: FromWorker): void {
    switch (m.kind) {
      case 'listening':
        slot.listening = true;
        slot.backoff.reset();
        this.o.log.info({ worker: slot.index }, 'data-path worker listening');
        if (this.listening) this.markAllListening();
        return;
      case 'need-cert':
        this.o.certs.get(m.identity).then(
          // A new certificate reaches every worker through onChange; this one may already have it.
          (cert) => slot.worker?.postMessage({ kind: 'cert', identity: m.identity, material: material(cert) } satisfies ToWorker),
          (err: Error) => slot.worker?.postMessage({ kind: 'cert-refused', identity: m.identity, message: err.message } satisfies ToWorker),
        );
        return;
      case 'answer':
        this.pending.get(m.id)?.(m.value);
        this.pending.delete(m.id);
        return;
      case 'drained':
        if (m.open > 0) this.o.log.warn({ worker: slot.index, cut: m.open }, 'drain period over: connections still open were closed');
        return;
    }
  }

  private broadcast(m: ToWorker): void {
    for (const s of this.slots) s.worker?.postMessage(m);
  }

  /** Asks every live worker; one that does not answer within a second is left out. */
  private query(what: 'metrics' | 'stats'): Promise<unknown[]> {
    return Promise.all(
      this.slots
        .filter((s) => s.worker)
        .map(
          (s) =>
            new Promise<unknown>((resolve) => {
              const id = this.nextQuery++;
              const timer = setTimeout(() => {
                this.pending.delete(id);
                resolve(undefined);
              }, 1000);
              this.pending.set(id, (v) => {
                clearTimeout(timer);
                resolve(v);
              });
              s.worker!.postMessage({ kind: 'query', id, what } satisfies ToWorker);
            }),
        ),
    ).then((answers) => answers.filter((a) => a !== undefined));
  }

  /** The workers' metrics, summed. */
  async metrics(): Promise<Registry> {
    return AggregatorRegistry.aggregate((await this.query('metrics')) as Parameters<typeof AggregatorRegistry.aggregate>[0]);
  }

  async stats(): Promise<{ workers: unknown[]; restarts: number[] }> {
    return { workers: await this.query('stats'), restarts: this.slots.map((s) => s.restarts) };
  }

  /** Every worker stops accepting, drains for up to `ms`, and exits. */
  async drain(ms: number): Promise<void> {
    this.stopping = true;
    for (const u of this.unsubscribe) u();
    await Promise.all(
      this.slots.map(async (s) => {
        const w = s.worker;
        if (!w) return;
        const exited = new Promise<void>((r) => w.once('exit', () => r()));
        w.postMessage({ kind: 'drain', ms } satisfies ToWorker);
        const force = setTimeout(() => void w.terminate(), ms + 5000);
        await exited;
        clearTimeout(force);
      }),
    );
  }
}

function material(cert: { keyPem: string; certChainPem: string; rootPem: string; notAfter: number }): CertMaterial {
  return { keyPem: cert.keyPem, certChainPem: cert.certChainPem, rootPem: cert.rootPem, notAfter: cert.notAfter };
}
