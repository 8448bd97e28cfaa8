import { createHash, timingSafeEqual } from 'node:crypto';
import { AmbitError, fail, ok, type Result } from '../../lib/errors.js';
import type { AgentIdentity, Authenticator } from './authenticator.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** A fixed node -> token map (the lab hands each agent its own token). */
export class StaticTokenAuthenticator implements Authenticator {
  private readonly entries: { node: string; digest: Buffer }[];
  readonly describe: string;

  constructor(tokens: Readonly<Record<string, string>>) {
    this.entries = Object.entries(tokens).map(([node, token]) => ({ node, digest: digest(token) }));
    this.describe = `static tokens for ${this.entries.length} node(s)`;
  }

  async authenticate(token: string): Promise<Result<AgentIdentity>> {
    const d = digest(token);
    // Compare against every entry, in constant time each, so timing tells nothing about which matched.
    let node: string | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, d)) node = e.node;
    if (node === undefined) return fail(new AmbitError('AMBIT_ERR_AGENT_AUTH', 'unknown agent token; check the token the lab gave this agent (AMBIT_AGENT_TOKENS on the controller)'));
    return ok({ node, subject: `node:${node}` });
  }
}
