/**
 * The error catalogue. Every error Ambit reports to an operator carries a
 * stable `AMBIT_ERR_*` code; docs/errors.md documents each one and a test keeps
 * the two in step. Codes are never renumbered or reused.
 *
 * Expected failures on hot paths are returned as values (see `Result`);
 * `AmbitError` is thrown for bad input at boundaries and for bugs.
 */
export const ErrorCodes = {
  AMBIT_ERR_MANIFEST: 'a Kubernetes manifest is malformed or names something that does not exist',
  AMBIT_ERR_LAB_STATE: 'the lab is not in the state the command needs (not up, already up, crashed)',
  AMBIT_ERR_LAB_SETUP: 'building the lab topology failed (namespaces, links, cgroups)',
  AMBIT_ERR_PRIVILEGE: 'a required privilege, kernel feature or tool is missing',
  AMBIT_ERR_BPF_LOAD: 'loading, pinning or attaching an eBPF program failed',
  AMBIT_ERR_BPF_MAP: 'reading or writing an eBPF map failed',
  AMBIT_ERR_API: 'a Kubernetes API request was invalid or refused',
  AMBIT_ERR_CONFIG: 'a component configuration value is missing or invalid',
  AMBIT_ERR_ORIGINAL_DST: 'a redirected connection has no recorded original destination',
  AMBIT_ERR_UPSTREAM_CONNECT: 'connecting to the destination of a proxied connection failed',
  AMBIT_ERR_IDENTITY: 'a SPIFFE identity is malformed or is not spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>',
  AMBIT_ERR_CA: 'the mesh CA certificate or key is missing, malformed, not a CA, or the key does not match the certificate',
  AMBIT_ERR_CSR_REFUSED: 'a certificate signing request was malformed, badly signed, or asked for an identity the caller was not authorized for',
  AMBIT_ERR_CERT_INVALID: 'a workload or peer certificate failed verification against the mesh root (wrong CA, expired, bad SPIFFE SAN)',
  AMBIT_ERR_TRUST_BUNDLE: 'the trust bundle a node agent reads out of band (ConfigMap ambit-root-ca, mounted as a file) is missing, unreadable or not a set of CA certificates',
  AMBIT_ERR_CONTROLLER_TLS: 'the controller on 15010 could not be verified: its certificate does not chain to the trust bundle, does not name the controller, or it does not speak TLS',
  AMBIT_ERR_AGENT_AUTH: 'a node agent was refused by the controller: missing or unknown token, token not bound to a node, or it asked for another node',
  AMBIT_ERR_RESOURCE_REJECTED: 'a custom resource failed validation and was rejected; its last accepted version stays in force (see its Accepted condition)',
  AMBIT_ERR_CONFIG_NACK: 'a node agent rejected (NACKed) a config update; it keeps its previous config until the next change',
  AMBIT_ERR_HBONE_CONNECT: 'opening the HBONE connection to a peer on port 15008 failed (refused, unreachable, timed out); check the peer node agent is running and nothing blocks port 15008',
  AMBIT_ERR_HBONE_TLS: 'the mutual TLS handshake of an HBONE connection failed (a certificate was rejected by either side, or the server is not the expected identity)',
  AMBIT_ERR_HBONE_DENIED: 'the HBONE peer refused the tunnel by authorization policy (HTTP 401/403); the reason header says which rule',
  AMBIT_ERR_HBONE_UPSTREAM: 'the HBONE peer could not connect to the destination workload (HTTP 503); check the destination pod is listening',
  AMBIT_ERR_HBONE_PROTOCOL: 'an HBONE peer broke the protocol or went away (not CONNECT, bad :authority, unexpected status, stream reset, GOAWAY, timeout)',
  AMBIT_ERR_SOURCE_SPOOFED: 'an HBONE peer claimed a source address that is not a workload of its own identity on its own node; the tunnel was refused',
  AMBIT_ERR_LEADER_ELECTION: 'a controller replica could not read, take or renew its leader election Lease, or stopped leading because it could not renew in time; the replica that holds the Lease writes status and runs Waypoints',
  AMBIT_ERR_FASTPATH: 'the kernel refused the same-node fast path (sockmap), for the node or for one connection; those bytes are spliced in user space instead',
  AMBIT_ERR_TRACING_EXPORT: 'a waypoint could not export spans to the OTLP collector at AMBIT_TRACING_ENDPOINT; those spans are lost, requests are not affected',
  AMBIT_ERR_DASHBOARD_SCRAPE: "the controller's dashboard could not read a node agent's or waypoint's /metrics on its admin port (15020); that proxy's traffic is missing from the service graph",
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class AmbitError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AmbitError';
    this.code = code;
  }
}

/** A value-typed outcome for expected failures (grpc-js `StatusOr` style). */
export type Result<T, E = AmbitError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const fail = <E>(error: E): Result<never, E> => ({ ok: false, error });
