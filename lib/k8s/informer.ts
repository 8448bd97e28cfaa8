import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { exponentialBackoff, type Backoff } from '../backoff.js';
import type { Logger } from '../log.js';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** The watch path, e.g. `/api/v1/pods`. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  onChange: (event: InformerEvent, obj: T) => void;
  log: Logger;
  backoff?: Backoff;
  setTimer?: (fn: () => void, ms: number) => unknown;
  now?: () => number;
}

/**
 * A failure this long after the previous one starts the backoff over: the
 * informer ran in between. (client-go's reflector does the same with its
 * backoff manager.) Not reset on a new attempt: the library reports "connect"
 * before each list or watch, even one the server then refuses, so a reset
 * there kept a refused informer (a 403 on its watch) retrying every ~100 ms.
 */
export const INFORMER_BACKOFF_RESET_MS = 60_000;

export interface Informer<T extends KubernetesObject> {
  /** Resolves once the first list has been delivered. */
  readonly synced: Promise<void>;
  list(namespace?: string): readonly T[];
  get(name: string, namespace?: string): T | undefined;
  stop(): Promise<void>;
}

/**
 * A client-node ListWatch that keeps itself alive: the library's informer
 * stops on a watch or list error and leaves restarting to its user, so this
 * restarts it with backoff (a 410 relist is handled inside the library).
 */
export function startInformer<T extends KubernetesObject>(opts: InformerOptions<T>): Informer<T> {
  const backoff = opts.backoff ?? exponentialBackoff();
  const setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms).unref());
  const lw = new ListWatch<T>(opts.path, new Watch(opts.kc), opts.list, false, opts.labelSelector, opts.fieldSelector);
  let stopped = false;
  let markSynced!: () => void;
  const synced = new Promise<void>((r) => (markSynced = r));

  lw.on('add', (o) => opts.onChange('add', o));
  lw.on('update', (o) => opts.onChange('update', o));
  lw.on('delete', (o) => opts.onChange('delete', o));
  const now = opts.now ?? Date.now;
  /** Set while a restart is scheduled: an error event and a failed start() may both report one failure. */
  let restarting = false;
  let lastFailure = -Infinity;
  const restart = (err: unknown) => {
    if (stopped || restarting) return;
    restarting = true;
    if (now() - lastFailure >= INFORMER_BACKOFF_RESET_MS) backoff.reset();
    lastFailure = now();
    const delay = backoff.next();
    opts.log.warn({ path: opts.path, err: String(err), retryInMs: delay }, 'watch failed, restarting');
    setTimer(() => {
      restarting = false;
      void begin();
    }, delay);
  };
  lw.on('error', restart);

  const begin = async () => {
    if (stopped) return;
    try {
      // start() resolves even when its list failed (it reports that through
      // the error callback, which schedules the retry); a list resourceVersion
      // is what tells that the cache is filled.
      await lw.start();
      if (lw.latestResourceVersion()) markSynced();
    } catch (err) {
      // A start that throws reports nothing through the error callback: without this the
      // informer would stay stopped for good.
      restart(err);
    }
  };
  void begin();

  return {
    synced,
    list: (ns) => lw.list(ns),
    get: (name, ns) => lw.get(name, ns),
    stop: async () => {
      stopped = true;
      await lw.stop();
    },
  };
}
