/**
 * The config protocol between the controller and the node agents
 * (proto/ambit/v1/*.proto): message types, the proto loader, and the agent
 * side clients of the MeshConfig stream and the MeshCA service, and the channel they share
 * (TLS verified against the out-of-band trust bundle).
 */
export * from './types.js';
export { ROUTE_KIND_NAMES, WIRE_FIELD, fromWire, resourceName, toWire } from './resources.js';
export { LOADER_OPTIONS, PROTO_FILES, asPushed, loadAmbitProtos, protoRoot, type AmbitProtos } from './proto.js';
export { AUTHORIZATION, bearerMetadata, bearerToken, readToken, type TokenSource } from './auth.js';
export { realTimers, type Timers } from './timers.js';
export {
  INSECURE_CONTROL_PLANE_ENV,
  controllerChannel,
  controllerIdentityCheck,
  warnInsecureControlPlane,
  type ControlPlaneSecurity,
  type ControllerChannel,
} from './credentials.js';
export {
  CLIENT_CHANNEL_OPTIONS,
  connectMeshConfig,
  type ConnectionState,
  type MeshConfigClientOptions,
  type MeshConfigConnection,
  type MeshConfigStatus,
  type UpdateArgs,
  type UpdateHandler,
  type UpdateResult,
} from './client.js';
export { createMeshCaClient, type MeshCaClient, type MeshCaClientOptions, type SignFailure, type SignResult } from './ca-client.js';
