// Original file: lib/xds/proto/ambit/v1/ca.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CertResponse as _ambit_v1_CertResponse, CertResponse__Output as _ambit_v1_CertResponse__Output } from '../../ambit/v1/CertResponse.js';
import type { CsrRequest as _ambit_v1_CsrRequest, CsrRequest__Output as _ambit_v1_CsrRequest__Output } from '../../ambit/v1/CsrRequest.js';

export interface MeshCAClient extends grpc.Client {
  /**
   * Authenticated with `authorization: Bearer <token>` metadata, like MeshConfig.
   */
  Sign(argument: _ambit_v1_CsrRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ambit_v1_CertResponse__Output>): grpc.ClientUnaryCall;
  Sign(argument: _ambit_v1_CsrRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ambit_v1_CertResponse__Output>): grpc.ClientUnaryCall;
  Sign(argument: _ambit_v1_CsrRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ambit_v1_CertResponse__Output>): grpc.ClientUnaryCall;
  Sign(argument: _ambit_v1_CsrRequest, callback: grpc.requestCallback<_ambit_v1_CertResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Authenticated with `authorization: Bearer <token>` metadata, like MeshConfig.
   */
  sign(argument: _ambit_v1_CsrRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_ambit_v1_CertResponse__Output>): grpc.ClientUnaryCall;
  sign(argument: _ambit_v1_CsrRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_ambit_v1_CertResponse__Output>): grpc.ClientUnaryCall;
  sign(argument: _ambit_v1_CsrRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_ambit_v1_CertResponse__Output>): grpc.ClientUnaryCall;
  sign(argument: _ambit_v1_CsrRequest, callback: grpc.requestCallback<_ambit_v1_CertResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface MeshCAHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Authenticated with `authorization: Bearer <token>` metadata, like MeshConfig.
   */
  Sign: grpc.handleUnaryCall<_ambit_v1_CsrRequest__Output, _ambit_v1_CertResponse>;
  
}

export interface MeshCADefinition extends grpc.ServiceDefinition {
  Sign: MethodDefinition<_ambit_v1_CsrRequest, _ambit_v1_CertResponse, _ambit_v1_CsrRequest__Output, _ambit_v1_CertResponse__Output>
}
