import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { CertResponse as _ambit_v1_CertResponse, CertResponse__Output as _ambit_v1_CertResponse__Output } from './ambit/v1/CertResponse.js';
import type { CsrRequest as _ambit_v1_CsrRequest, CsrRequest__Output as _ambit_v1_CsrRequest__Output } from './ambit/v1/CsrRequest.js';
import type { MeshCAClient as _ambit_v1_MeshCAClient, MeshCADefinition as _ambit_v1_MeshCADefinition } from './ambit/v1/MeshCA.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  ambit: {
    v1: {
      CertResponse: MessageTypeDefinition<_ambit_v1_CertResponse, _ambit_v1_CertResponse__Output>
      CsrRequest: MessageTypeDefinition<_ambit_v1_CsrRequest, _ambit_v1_CsrRequest__Output>
      MeshCA: SubtypeConstructor<typeof grpc.Client, _ambit_v1_MeshCAClient> & { service: _ambit_v1_MeshCADefinition }
    }
  }
}

