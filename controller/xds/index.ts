/** The MeshConfig gRPC service: per-agent streams, versioned diffs, ACK/NACK. */
export { XdsServer, type XdsServerOptions } from './server.js';
export { ACK_CHANNEL, AgentConnection, PUSH_CHANNEL, type AckEvent, type PushEvent } from './agent.js';
export { NodeViews } from './views.js';
export { TypeTable, canonicalJson, type Delta, type Entry } from './table.js';
export { Debouncer } from './debounce.js';
