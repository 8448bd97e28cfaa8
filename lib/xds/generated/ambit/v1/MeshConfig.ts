// Original file: lib/xds/proto/ambit/v1/mesh_config.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AgentMessage as _ambit_v1_AgentMessage, AgentMessage__Output as _ambit_v1_AgentMessage__Output } from '../../ambit/v1/AgentMessage.js';
import type { ConfigMessage as _ambit_v1_ConfigMessage, ConfigMessage__Output as _ambit_v1_ConfigMessage__Output } from '../../ambit/v1/ConfigMessage.js';

export interface MeshConfigClient extends grpc.Client {
  /**
   * The agent authenticates with `authorization: Bearer <token>` metadata and
   * opens with a Hello naming its own node; then it ACKs/NACKs every
   * ConfigMessage by nonce.
   */
  Stream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_ambit_v1_AgentMessage, _ambit_v1_ConfigMessage__Output>;
  Stream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_ambit_v1_AgentMessage, _ambit_v1_ConfigMessage__Output>;
  /**
   * The agent authenticates with `authorization: Bearer <token>` metadata and
   * opens with a Hello naming its own node; then it ACKs/NACKs every
   * ConfigMessage by nonce.
   */
  stream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_ambit_v1_AgentMessage, _ambit_v1_ConfigMessage__Output>;
  stream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_ambit_v1_AgentMessage, _ambit_v1_ConfigMessage__Output>;
  
}

export interface MeshConfigHandlers extends grpc.UntypedServiceImplementation {
  /**
   * The agent authenticates with `authorization: Bearer <token>` metadata and
   * opens with a Hello naming its own node; then it ACKs/NACKs every
   * ConfigMessage by nonce.
   */
  Stream: grpc.handleBidiStreamingCall<_ambit_v1_AgentMessage__Output, _ambit_v1_ConfigMessage>;
  
}

export interface MeshConfigDefinition extends grpc.ServiceDefinition {
  Stream: MethodDefinition<_ambit_v1_AgentMessage, _ambit_v1_ConfigMessage, _ambit_v1_AgentMessage__Output, _ambit_v1_ConfigMessage__Output>
}
