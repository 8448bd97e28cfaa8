/**
 * The mesh roots a node trusts, read out of band: in a cluster the ConfigMap `ambit-root-ca`
 * that the controller publishes, mounted into the DaemonSet as a file; in the lab the file
 * the supervisor projects from that ConfigMap for each node. Nothing that arrives over the
 * control channel ever changes it, so whoever answers on the controller's address cannot
 * make the node trust another CA.
 *
 * The file is polled rather than watched: kubelet updates a ConfigMap volume by swapping a
 * symlink, which inotify on the file itself does not see.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AmbitError, fail, ok, type Result } from '../errors.js';
import type { Logger } from '../log.js';
import { realTimers, type Timers } from '../xds/timers.js';
import { createTrustBundle, type TrustBundle } from './verify.js';

/** The DaemonSet's mount of ConfigMap `ambit-root-ca` (key `root-cert.pem`). */
export const DEFAULT_ROOT_CA_FILE = '/var/run/ambit/root-ca/root-cert.pem';
export const ROOT_CA_CONFIGMAP = 'ambit-root-ca';
export const ROOT_CA_KEY = 'root-cert.pem';
export const DEFAULT_TRUST_POLL_MS = 5000;

/** Where a component gets the roots it trusts. */
export interface TrustSource {
  /** The bundle in force. */
  current(): TrustBundle;
  /** Calls `listener` with every later bundle; returns the unsubscribe. */
  onChange(listener: (bundle: TrustBundle) => void): () => void;
}

/** A fixed bundle (tests, tools). */
export function staticTrust(bundle: TrustBundle): TrustSource {
  return { current: () => bundle, onChange: () => () => undefined };
}

/** One root as `/config_dump` shows it. */
export interface RootSummary {
  subject: string;
  notAfter: string;
  sha256: string;
}

export const summarizeRoots = (roots: readonly X509Certificate[]): RootSummary[] =>
  roots.map((r) => ({ subject: r.subject.replace(/\n/g, ', '), notAfter: new Date(r.validTo).toISOString(), sha256: createHash('sha256').update(r.raw).digest('hex') }));

export interface TrustBundleFileOptions {
  path: string;
  trustDomain: string;
  log: Logger;
  pollMs?: number;
  timers?: Timers;
}

const bundleError = (path: string, why: string, cause?: unknown): AmbitError =>
  new AmbitError(
    'AMBIT_ERR_TRUST_BUNDLE',
    `trust bundle ${path}: ${why}; mount ConfigMap ${ROOT_CA_CONFIGMAP} (key ${ROOT_CA_KEY}, published by the controller) there, or point AMBIT_ROOT_CA_FILE at it`,
    cause === undefined ? undefined : { cause },
  );

async function readBundle(path: string, trustDomain: string): Promise<{ text: string; bundle: Result<TrustBundle> }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { text: '', bundle: fail(bundleError(path, code === 'ENOENT' ? 'does not exist' : `cannot be read (${(err as Error).message})`, err)) };
  }
  const bundle = createTrustBundle(trustDomain, text);
  return { text, bundle: bundle.ok ? bundle : fail(bundleError(path, bundle.error.message, bundle.error)) };
}

/** The bundle in a file, re-read every `pollMs`; a bad new version is logged and the last good one kept. */
export class TrustBundleFile implements TrustSource {
  private readonly listeners = new Set<(b: TrustBundle) => void>();
  private readonly timers: Timers;
  private timer: unknown;
  private closed = false;
  /** The last content read, good or not, so a bad file is reported once, not every poll. */
  private lastText: string;
  private lastError: string | undefined;

  private constructor(
    private readonly opts: TrustBundleFileOptions,
    private bundle: TrustBundle,
    text: string,
  ) {
    this.timers = opts.timers ?? realTimers;
    this.lastText = text;
    this.schedule();
  }

  /** Reads the file once; a missing or malformed file is an `AMBIT_ERR_TRUST_BUNDLE` value. */
  static async open(opts: TrustBundleFileOptions): Promise<Result<TrustBundleFile>> {
    const { text, bundle } = await readBundle(opts.path, opts.trustDomain);
    if (!bundle.ok) return bundle;
    opts.log.info({ path: opts.path, roots: summarizeRoots(bundle.value.roots) }, 'trust bundle loaded');
    return ok(new TrustBundleFile(opts, bundle.value, text));
  }

  current(): TrustBundle {
    return this.bundle;
  }

  onChange(listener: (bundle: TrustBundle) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  summary(): { path: string; roots: RootSummary[]; lastError: string | undefined } {
    return { path: this.opts.path, roots: summarizeRoots(this.bundle.roots), lastError: this.lastError };
  }

  /** Re-reads the file now (the poll calls this). */
  async reload(): Promise<void> {
    const { text, bundle } = await readBundle(this.opts.path, this.opts.trustDomain);
    if (this.closed || text === this.lastText) return;
    this.lastText = text;
    if (!bundle.ok) {
      this.lastError = bundle.error.message;
      this.opts.log.error({ code: bundle.error.code, err: bundle.error.message }, 'the new trust bundle is unusable; keeping the last good one');
      return;
    }
    this.lastError = undefined;
    if (bundle.value.rootPem === this.bundle.rootPem) return;
    this.bundle = bundle.value;
    this.opts.log.info({ path: this.opts.path, roots: summarizeRoots(bundle.value.roots) }, 'trust bundle changed');
    for (const l of this.listeners) l(bundle.value);
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = this.timers.setTimeout(() => {
      void this.reload().finally(() => this.schedule());
    }, this.opts.pollMs ?? DEFAULT_TRUST_POLL_MS);
  }
}
