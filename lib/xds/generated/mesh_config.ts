import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Ack as _ambit_v1_Ack, Ack__Output as _ambit_v1_Ack__Output } from './ambit/v1/Ack.js';
import type { AgentMessage as _ambit_v1_AgentMessage, AgentMessage__Output as _ambit_v1_AgentMessage__Output } from './ambit/v1/AgentMessage.js';
import type { AuthorizationPolicy as _ambit_v1_AuthorizationPolicy, AuthorizationPolicy__Output as _ambit_v1_AuthorizationPolicy__Output } from './ambit/v1/AuthorizationPolicy.js';
import type { ConfigMessage as _ambit_v1_ConfigMessage, ConfigMessage__Output as _ambit_v1_ConfigMessage__Output } from './ambit/v1/ConfigMessage.js';
import type { Endpoint as _ambit_v1_Endpoint, Endpoint__Output as _ambit_v1_Endpoint__Output } from './ambit/v1/Endpoint.js';
import type { ErrorDetail as _ambit_v1_ErrorDetail, ErrorDetail__Output as _ambit_v1_ErrorDetail__Output } from './ambit/v1/ErrorDetail.js';
import type { Hello as _ambit_v1_Hello, Hello__Output as _ambit_v1_Hello__Output } from './ambit/v1/Hello.js';
import type { L4Condition as _ambit_v1_L4Condition, L4Condition__Output as _ambit_v1_L4Condition__Output } from './ambit/v1/L4Condition.js';
import type { L4Operation as _ambit_v1_L4Operation, L4Operation__Output as _ambit_v1_L4Operation__Output } from './ambit/v1/L4Operation.js';
import type { L4Rule as _ambit_v1_L4Rule, L4Rule__Output as _ambit_v1_L4Rule__Output } from './ambit/v1/L4Rule.js';
import type { L4Source as _ambit_v1_L4Source, L4Source__Output as _ambit_v1_L4Source__Output } from './ambit/v1/L4Source.js';
import type { MeshConfigClient as _ambit_v1_MeshConfigClient, MeshConfigDefinition as _ambit_v1_MeshConfigDefinition } from './ambit/v1/MeshConfig.js';
import type { Node as _ambit_v1_Node, Node__Output as _ambit_v1_Node__Output } from './ambit/v1/Node.js';
import type { PeerAuthentication as _ambit_v1_PeerAuthentication, PeerAuthentication__Output as _ambit_v1_PeerAuthentication__Output } from './ambit/v1/PeerAuthentication.js';
import type { PortMapping as _ambit_v1_PortMapping, PortMapping__Output as _ambit_v1_PortMapping__Output } from './ambit/v1/PortMapping.js';
import type { PortMtls as _ambit_v1_PortMtls, PortMtls__Output as _ambit_v1_PortMtls__Output } from './ambit/v1/PortMtls.js';
import type { Resource as _ambit_v1_Resource, Resource__Output as _ambit_v1_Resource__Output } from './ambit/v1/Resource.js';
import type { Service as _ambit_v1_Service, Service__Output as _ambit_v1_Service__Output } from './ambit/v1/Service.js';
import type { ServicePort as _ambit_v1_ServicePort, ServicePort__Output as _ambit_v1_ServicePort__Output } from './ambit/v1/ServicePort.js';
import type { TargetRef as _ambit_v1_TargetRef, TargetRef__Output as _ambit_v1_TargetRef__Output } from './ambit/v1/TargetRef.js';
import type { WaypointRef as _ambit_v1_WaypointRef, WaypointRef__Output as _ambit_v1_WaypointRef__Output } from './ambit/v1/WaypointRef.js';
import type { Workload as _ambit_v1_Workload, Workload__Output as _ambit_v1_Workload__Output } from './ambit/v1/Workload.js';
import type { WorkloadSelector as _ambit_v1_WorkloadSelector, WorkloadSelector__Output as _ambit_v1_WorkloadSelector__Output } from './ambit/v1/WorkloadSelector.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  ambit: {
    v1: {
      Ack: MessageTypeDefinition<_ambit_v1_Ack, _ambit_v1_Ack__Output>
      AgentMessage: MessageTypeDefinition<_ambit_v1_AgentMessage, _ambit_v1_AgentMessage__Output>
      AuthorizationAction: EnumTypeDefinition
      AuthorizationPolicy: MessageTypeDefinition<_ambit_v1_AuthorizationPolicy, _ambit_v1_AuthorizationPolicy__Output>
      ConfigMessage: MessageTypeDefinition<_ambit_v1_ConfigMessage, _ambit_v1_ConfigMessage__Output>
      Endpoint: MessageTypeDefinition<_ambit_v1_Endpoint, _ambit_v1_Endpoint__Output>
      ErrorDetail: MessageTypeDefinition<_ambit_v1_ErrorDetail, _ambit_v1_ErrorDetail__Output>
      Hello: MessageTypeDefinition<_ambit_v1_Hello, _ambit_v1_Hello__Output>
      L4Condition: MessageTypeDefinition<_ambit_v1_L4Condition, _ambit_v1_L4Condition__Output>
      L4Operation: MessageTypeDefinition<_ambit_v1_L4Operation, _ambit_v1_L4Operation__Output>
      L4Rule: MessageTypeDefinition<_ambit_v1_L4Rule, _ambit_v1_L4Rule__Output>
      L4Source: MessageTypeDefinition<_ambit_v1_L4Source, _ambit_v1_L4Source__Output>
      LoadBalancerPolicy: EnumTypeDefinition
      MeshConfig: SubtypeConstructor<typeof grpc.Client, _ambit_v1_MeshConfigClient> & { service: _ambit_v1_MeshConfigDefinition }
      MtlsMode: EnumTypeDefinition
      Node: MessageTypeDefinition<_ambit_v1_Node, _ambit_v1_Node__Output>
      PeerAuthentication: MessageTypeDefinition<_ambit_v1_PeerAuthentication, _ambit_v1_PeerAuthentication__Output>
      PolicyScope: EnumTypeDefinition
      PortMapping: MessageTypeDefinition<_ambit_v1_PortMapping, _ambit_v1_PortMapping__Output>
      PortMtls: MessageTypeDefinition<_ambit_v1_PortMtls, _ambit_v1_PortMtls__Output>
      Resource: MessageTypeDefinition<_ambit_v1_Resource, _ambit_v1_Resource__Output>
      Service: MessageTypeDefinition<_ambit_v1_Service, _ambit_v1_Service__Output>
      ServicePort: MessageTypeDefinition<_ambit_v1_ServicePort, _ambit_v1_ServicePort__Output>
      TargetRef: MessageTypeDefinition<_ambit_v1_TargetRef, _ambit_v1_TargetRef__Output>
      WaypointRef: MessageTypeDefinition<_ambit_v1_WaypointRef, _ambit_v1_WaypointRef__Output>
      Workload: MessageTypeDefinition<_ambit_v1_Workload, _ambit_v1_Workload__Output>
      WorkloadSelector: MessageTypeDefinition<_ambit_v1_WorkloadSelector, _ambit_v1_WorkloadSelector__Output>
    }
  }
}

