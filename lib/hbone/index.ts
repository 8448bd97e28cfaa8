/**
 * HBONE: TCP connections carried between nodes as HTTP/2 CONNECT streams over mutual TLS 1.3
 * on port 15008, as in Istio ambient's ztunnel.
 *
 *   source agent                                          destination agent
 *   app socket -> HbonePool.connect() ==== mTLS h2 ====> startHboneServer() -> authorize
 *                 (pooled session per                      -> connectUpstream -> app socket
 *                  source identity + peer)
 *
 * The server presents the certificate its `tls(servername)` provider chooses (the destination
 * workload's, selected by SNI); the client presents the source workload's. Both verify the
 * peer against the mesh root and read its SPIFFE identity.
 */
export { HBONE_PORT, REASON_HEADER } from './constants.js';
export { formatAuthority, parseAuthority, type HostPort } from './authority.js';
export { HboneError, type HboneTlsReason } from './errors.js';
export {
  startHboneServer,
  type AuthzAllow,
  type AuthzDecision,
  type AuthzDeny,
  type HboneServer,
  type HboneServerOptions,
  type HboneServerStats,
  type TunnelRecord,
  type TunnelRequest,
} from './server.js';
export {
  HbonePool,
  type HboneConnectRequest,
  type HbonePoolOptions,
  type HbonePoolStats,
  type HboneSessionStats,
  type HboneTunnel,
} from './pool.js';
export type { SessionState } from './session.js';
export { splice, type SpliceResult } from './splice.js';
export { connectTcp } from './upstream.js';
