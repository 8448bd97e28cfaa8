/**
 * Identity: SPIFFE IDs, the mesh CA (controller), workload keys and certificates (node
 * agent), the trust bundle read out of band (`trust-file.ts`), and peer verification plus
 * the mutual TLS 1.3 options every mesh endpoint uses.
 * Keys are ECDSA P-256 (see workload.ts for the measurement behind that choice).
 */
export {
  DEFAULT_TRUST_DOMAIN,
  formatSpiffeId,
  makeSpiffeId,
  parseSpiffeId,
  trustDomainUri,
  validateTrustDomain,
  type SpiffeId,
} from './spiffe.js';
export {
  DEFAULT_BACKDATE_MS,
  DEFAULT_CA_VALIDITY_DAYS,
  DEFAULT_WORKLOAD_TTL_MS,
  MeshCa,
  createRootCa,
  issueServingCertificate,
  loadCa,
  serializeCa,
  signWorkloadCsr,
  type CaPem,
  type Clock,
  type CreateRootCaOptions,
  type IssuedServingCertificate,
  type ServingCertificateOptions,
  type SignOptions,
} from './ca.js';
export {
  DEFAULT_ROTATE_JITTER,
  DEFAULT_ROTATE_WHEN_REMAINING,
  WorkloadCertificate,
  createCsr,
  generateWorkloadKey,
  renewalTime,
  type KeyAlgorithm,
  type RenewalPolicy,
  type WorkloadKey,
} from './workload.js';
export {
  classifyTlsFailure,
  createTrustBundle,
  leafIdentity,
  meshClientTlsOptions,
  meshTlsOptions,
  peerIdentity,
  spiffeServerIdentityCheck,
  verifyFailureError,
  verifyPeerChain,
  type CertInput,
  type MeshTlsOptions,
  type TrustBundle,
  type VerifyFailure,
  type VerifyFailureReason,
  type VerifyOptions,
  type WorkloadTlsMaterial,
} from './verify.js';
export {
  DEFAULT_ROOT_CA_FILE,
  DEFAULT_TRUST_POLL_MS,
  ROOT_CA_CONFIGMAP,
  ROOT_CA_KEY,
  TrustBundleFile,
  staticTrust,
  summarizeRoots,
  type RootSummary,
  type TrustBundleFileOptions,
  type TrustSource,
} from './trust-file.js';
