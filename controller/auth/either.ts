import { AmbitError, fail, ok, type Result } from '../../lib/errors.js';
import type { AgentIdentity, Authenticator } from './authenticator.js';

/**
 * The first of several authenticators that accepts a token. The lab's node
 * agents carry static tokens while its waypoint proxies carry service
 * account tokens; a token none accepts is refused with every reason, so the
 * log says what each check found.
 */
export class EitherAuthenticator implements Authenticator {
  readonly describe: string;

  constructor(private readonly all: readonly Authenticator[]) {
    this.describe = all.map((a) => a.describe).join('; or ');
  }

  async authenticate(token: string): Promise<Result<AgentIdentity>> {
    const reasons: string[] = [];
    for (const a of this.all) {
      const r = await a.authenticate(token);
      if (r.ok) return ok(r.value);
      reasons.push(r.error.message);
    }
    return fail(new AmbitError('AMBIT_ERR_AGENT_AUTH', reasons.join('; ') || 'no authenticator configured'));
  }
}
