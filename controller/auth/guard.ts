import { createHash } from 'node:crypto';
import { AmbitError, fail, type Result } from '../../lib/errors.js';
import type { AgentIdentity, Authenticator } from './authenticator.js';

export interface GuardOptions {
  /** Authentications running at once; more are refused at once (the agent retries with backoff). Default 64. */
  maxInFlight?: number;
  /** A refused token is refused again without asking, for this long. Default 3 s. */
  negativeTtlMs?: number;
  /** Longest an authentication may take. Default 10 s. */
  timeoutMs?: number;
  /** Longest token considered; projected service account tokens are about 1 KiB. Default 16 KiB. */
  maxTokenBytes?: number;
  now?: () => number;
}

const MAX_REMEMBERED = 10_000;

/**
 * Keeps strangers from spending the controller. Every stream and CSR is
 * authenticated, and a TokenReview is a request to the API server, so
 * without bounds anyone who reaches 15010 could queue unlimited reviews.
 * This puts a ceiling on concurrent authentications, shares one review
 * among callers presenting the same token, remembers refusals briefly, and
 * gives every authentication a deadline. Wraps any Authenticator.
 */
export class GuardedAuthenticator implements Authenticator {
  readonly describe: string;
  private inFlight = 0;
  private readonly pending = new Map<string, Promise<Result<AgentIdentity>>>();
  private readonly refused = new Map<string, { error: AmbitError; until: number }>();
  private readonly o: Required<Omit<GuardOptions, 'now'>> & { now: () => number };

  constructor(
    private readonly inner: Authenticator,
    opts: GuardOptions = {},
  ) {
    this.describe = inner.describe;
    this.o = { maxInFlight: 64, negativeTtlMs: 3000, timeoutMs: 10_000, maxTokenBytes: 16 * 1024, now: Date.now, ...opts };
  }

  authenticate(token: string): Promise<Result<AgentIdentity>> {
    if (Buffer.byteLength(token) > this.o.maxTokenBytes) return Promise.resolve(authError(`the token is longer than ${this.o.maxTokenBytes} bytes`));
    const key = createHash('sha256').update(token).digest('hex');
    const now = this.o.now();
    const no = this.refused.get(key);
    if (no && no.until > now) return Promise.resolve(fail(no.error));
    const shared = this.pending.get(key);
    if (shared) return shared;
    if (this.inFlight >= this.o.maxInFlight) return Promise.resolve(authError(`the controller is already authenticating ${this.inFlight} agents; retry shortly`));
    this.inFlight++;
    const run = this.withDeadline(this.inner.authenticate(token)).then((r) => {
      if (!r.ok) this.remember(key, r.error);
      return r;
    });
    const p = run.finally(() => {
      this.inFlight--;
      this.pending.delete(key);
    });
    this.pending.set(key, p);
    return p;
  }

  private withDeadline(p: Promise<Result<AgentIdentity>>): Promise<Result<AgentIdentity>> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<Result<AgentIdentity>>((resolve) => {
      timer = setTimeout(() => resolve(authError(`authentication took longer than ${this.o.timeoutMs} ms (is the API server slow?)`)), this.o.timeoutMs);
    });
    const guarded = p.catch((err: unknown) => authError(`authentication failed: ${err instanceof Error ? err.message : String(err)}`));
    return Promise.race([guarded, deadline]).finally(() => clearTimeout(timer));
  }

  private remember(key: string, error: AmbitError): void {
    if (this.refused.size >= MAX_REMEMBERED) {
      const now = this.o.now();
      for (const [k, v] of this.refused) if (v.until <= now) this.refused.delete(k);
      if (this.refused.size >= MAX_REMEMBERED) this.refused.delete(this.refused.keys().next().value!);
    }
    this.refused.set(key, { error, until: this.o.now() + this.o.negativeTtlMs });
  }
}

const authError = (msg: string): Result<never> => fail(new AmbitError('AMBIT_ERR_AGENT_AUTH', msg));
