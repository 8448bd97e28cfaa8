/** The MeshConfig gRPC service: per-agent streams, versioned diffs, ACK/NACK. */
export { XdsServer, type XdsServerOptions } from './server.js';
export { AgentConnection } from './agent.js';
export { SnapshotCache, buildSnapshot, canonicalJson, diffSnapshot, type TypeSnapshot } from './snapshot.js';
export { Debouncer } from './debounce.js';
