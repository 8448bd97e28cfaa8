import type { Result } from '../../lib/errors.js';

/** Who an agent is, once its bearer token has been checked. */
export interface AgentIdentity {
  /** The node the agent may act for: subscribe as, and request certificates for pods on. */
  node: string;
  /** The authenticated principal, for logs (`node:<name>`, `system:serviceaccount:ns:sa`). */
  subject: string;
}

/**
 * Checks an agent's bearer token. Implementations: a static node->token map
 * (the lab), TokenReview against the Kubernetes API (a cluster).
 */
export interface Authenticator {
  /** A short description for logs (`static tokens for 3 nodes`). */
  readonly describe: string;
  /**
   * The identity behind `token`; an unknown, expired or unbound token is an
   * `AMBIT_ERR_AGENT_AUTH` value, never a throw.
   */
  authenticate(token: string): Promise<Result<AgentIdentity>>;
}
