import type { Result } from '../../lib/errors.js';

/** A waypoint proxy, as its pod-bound service account token says. */
export interface WaypointProxy {
  /** The Waypoint's namespace and name (its proxies run as the service account of that name). */
  namespace: string;
  name: string;
  /** The proxy's own pod. */
  pod: string;
}

/** Who a config or CA client is, once its bearer token has been checked. */
export interface AgentIdentity {
  /**
   * The node the client may act for: a node agent subscribes as it and requests certificates
   * for the pods on it; a waypoint proxy gets that node's view and only its own certificate.
   */
  node: string;
  /** The authenticated principal, for logs (`node:<name>`, `system:serviceaccount:ns:sa`). */
  subject: string;
  /** Set for a waypoint proxy, unset for a node agent. */
  waypoint?: WaypointProxy;
}

/**
 * Checks an agent's bearer token. Implementations: a static node->token map
 * (node agents in the lab), TokenReview against the Kubernetes API (node
 * agents in a cluster, waypoint proxies everywhere), and the first of several
 * that accepts (`EitherAuthenticator`).
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
