/** The mesh CA: persisted root (directory or Secret), its trust bundle published out of band, the MeshCA gRPC service, the controller's own serving certificate. */
export { CERT_KEY, KEY_KEY, TRUSTED_ROOTS_KEY, DirectoryCaStore, SecretCaStore, type CaStore, type StoredCa } from './store.js';
export { loadOrCreateCa, type LoadedCa } from './load.js';
export { BundlePublisher, configMapBundleSink, type BundlePublisherOptions, type BundleSink } from './publish.js';
export { ServingCertificate, type ServingCertificateOptions, type ServingCertificateState } from './serving.js';
export { CaService, DEFAULT_CERT_TTL_MS, MIN_CERT_TTL_MS, type CaServiceOptions } from './service.js';
