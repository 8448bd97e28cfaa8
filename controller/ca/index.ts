/** The mesh CA: persisted root (directory or Secret) and the MeshCA gRPC service. */
export { CERT_KEY, KEY_KEY, DirectoryCaStore, SecretCaStore, type CaStore } from './store.js';
export { loadOrCreateCa } from './load.js';
export { CaService, DEFAULT_CERT_TTL_MS, MIN_CERT_TTL_MS, type CaServiceOptions } from './service.js';
