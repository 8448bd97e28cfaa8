import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Ack as _ambit_v1_Ack, Ack__Output as _ambit_v1_Ack__Output } from './ambit/v1/Ack.js';
import type { AgentMessage as _ambit_v1_AgentMessage, AgentMessage__Output as _ambit_v1_AgentMessage__Output } from './ambit/v1/AgentMessage.js';
import type { AuthorizationPolicy as _ambit_v1_AuthorizationPolicy, AuthorizationPolicy__Output as _ambit_v1_AuthorizationPolicy__Output } from './ambit/v1/AuthorizationPolicy.js';
import type { BackendRef as _ambit_v1_BackendRef, BackendRef__Output as _ambit_v1_BackendRef__Output } from './ambit/v1/BackendRef.js';
import type { ConfigMessage as _ambit_v1_ConfigMessage, ConfigMessage__Output as _ambit_v1_ConfigMessage__Output } from './ambit/v1/ConfigMessage.js';
import type { ConnectionPool as _ambit_v1_ConnectionPool, ConnectionPool__Output as _ambit_v1_ConnectionPool__Output } from './ambit/v1/ConnectionPool.js';
import type { Endpoint as _ambit_v1_Endpoint, Endpoint__Output as _ambit_v1_Endpoint__Output } from './ambit/v1/Endpoint.js';
import type { ErrorDetail as _ambit_v1_ErrorDetail, ErrorDetail__Output as _ambit_v1_ErrorDetail__Output } from './ambit/v1/ErrorDetail.js';
import type { Fault as _ambit_v1_Fault, Fault__Output as _ambit_v1_Fault__Output } from './ambit/v1/Fault.js';
import type { Header as _ambit_v1_Header, Header__Output as _ambit_v1_Header__Output } from './ambit/v1/Header.js';
import type { HeaderModifier as _ambit_v1_HeaderModifier, HeaderModifier__Output as _ambit_v1_HeaderModifier__Output } from './ambit/v1/HeaderModifier.js';
import type { Hello as _ambit_v1_Hello, Hello__Output as _ambit_v1_Hello__Output } from './ambit/v1/Hello.js';
import type { L4Condition as _ambit_v1_L4Condition, L4Condition__Output as _ambit_v1_L4Condition__Output } from './ambit/v1/L4Condition.js';
import type { L4Operation as _ambit_v1_L4Operation, L4Operation__Output as _ambit_v1_L4Operation__Output } from './ambit/v1/L4Operation.js';
import type { L4Rule as _ambit_v1_L4Rule, L4Rule__Output as _ambit_v1_L4Rule__Output } from './ambit/v1/L4Rule.js';
import type { L4Source as _ambit_v1_L4Source, L4Source__Output as _ambit_v1_L4Source__Output } from './ambit/v1/L4Source.js';
import type { LocalRateLimit as _ambit_v1_LocalRateLimit, LocalRateLimit__Output as _ambit_v1_LocalRateLimit__Output } from './ambit/v1/LocalRateLimit.js';
import type { MeshConfigClient as _ambit_v1_MeshConfigClient, MeshConfigDefinition as _ambit_v1_MeshConfigDefinition } from './ambit/v1/MeshConfig.js';
import type { Node as _ambit_v1_Node, Node__Output as _ambit_v1_Node__Output } from './ambit/v1/Node.js';
import type { OutlierDetection as _ambit_v1_OutlierDetection, OutlierDetection__Output as _ambit_v1_OutlierDetection__Output } from './ambit/v1/OutlierDetection.js';
import type { PathModifier as _ambit_v1_PathModifier, PathModifier__Output as _ambit_v1_PathModifier__Output } from './ambit/v1/PathModifier.js';
import type { PeerAuthentication as _ambit_v1_PeerAuthentication, PeerAuthentication__Output as _ambit_v1_PeerAuthentication__Output } from './ambit/v1/PeerAuthentication.js';
import type { PortMapping as _ambit_v1_PortMapping, PortMapping__Output as _ambit_v1_PortMapping__Output } from './ambit/v1/PortMapping.js';
import type { PortMtls as _ambit_v1_PortMtls, PortMtls__Output as _ambit_v1_PortMtls__Output } from './ambit/v1/PortMtls.js';
import type { RequestMirror as _ambit_v1_RequestMirror, RequestMirror__Output as _ambit_v1_RequestMirror__Output } from './ambit/v1/RequestMirror.js';
import type { RequestRedirect as _ambit_v1_RequestRedirect, RequestRedirect__Output as _ambit_v1_RequestRedirect__Output } from './ambit/v1/RequestRedirect.js';
import type { Resource as _ambit_v1_Resource, Resource__Output as _ambit_v1_Resource__Output } from './ambit/v1/Resource.js';
import type { Retries as _ambit_v1_Retries, Retries__Output as _ambit_v1_Retries__Output } from './ambit/v1/Retries.js';
import type { Route as _ambit_v1_Route, Route__Output as _ambit_v1_Route__Output } from './ambit/v1/Route.js';
import type { RouteBackend as _ambit_v1_RouteBackend, RouteBackend__Output as _ambit_v1_RouteBackend__Output } from './ambit/v1/RouteBackend.js';
import type { RouteFilter as _ambit_v1_RouteFilter, RouteFilter__Output as _ambit_v1_RouteFilter__Output } from './ambit/v1/RouteFilter.js';
import type { RouteMatch as _ambit_v1_RouteMatch, RouteMatch__Output as _ambit_v1_RouteMatch__Output } from './ambit/v1/RouteMatch.js';
import type { RouteParent as _ambit_v1_RouteParent, RouteParent__Output as _ambit_v1_RouteParent__Output } from './ambit/v1/RouteParent.js';
import type { RouteRule as _ambit_v1_RouteRule, RouteRule__Output as _ambit_v1_RouteRule__Output } from './ambit/v1/RouteRule.js';
import type { Service as _ambit_v1_Service, Service__Output as _ambit_v1_Service__Output } from './ambit/v1/Service.js';
import type { ServicePort as _ambit_v1_ServicePort, ServicePort__Output as _ambit_v1_ServicePort__Output } from './ambit/v1/ServicePort.js';
import type { StringMatch as _ambit_v1_StringMatch, StringMatch__Output as _ambit_v1_StringMatch__Output } from './ambit/v1/StringMatch.js';
import type { TargetRef as _ambit_v1_TargetRef, TargetRef__Output as _ambit_v1_TargetRef__Output } from './ambit/v1/TargetRef.js';
import type { TrafficPolicy as _ambit_v1_TrafficPolicy, TrafficPolicy__Output as _ambit_v1_TrafficPolicy__Output } from './ambit/v1/TrafficPolicy.js';
import type { UrlRewrite as _ambit_v1_UrlRewrite, UrlRewrite__Output as _ambit_v1_UrlRewrite__Output } from './ambit/v1/UrlRewrite.js';
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
      BackendRef: MessageTypeDefinition<_ambit_v1_BackendRef, _ambit_v1_BackendRef__Output>
      ConfigMessage: MessageTypeDefinition<_ambit_v1_ConfigMessage, _ambit_v1_ConfigMessage__Output>
      ConnectionPool: MessageTypeDefinition<_ambit_v1_ConnectionPool, _ambit_v1_ConnectionPool__Output>
      Endpoint: MessageTypeDefinition<_ambit_v1_Endpoint, _ambit_v1_Endpoint__Output>
      ErrorDetail: MessageTypeDefinition<_ambit_v1_ErrorDetail, _ambit_v1_ErrorDetail__Output>
      Fault: MessageTypeDefinition<_ambit_v1_Fault, _ambit_v1_Fault__Output>
      Header: MessageTypeDefinition<_ambit_v1_Header, _ambit_v1_Header__Output>
      HeaderModifier: MessageTypeDefinition<_ambit_v1_HeaderModifier, _ambit_v1_HeaderModifier__Output>
      Hello: MessageTypeDefinition<_ambit_v1_Hello, _ambit_v1_Hello__Output>
      L4Condition: MessageTypeDefinition<_ambit_v1_L4Condition, _ambit_v1_L4Condition__Output>
      L4Operation: MessageTypeDefinition<_ambit_v1_L4Operation, _ambit_v1_L4Operation__Output>
      L4Rule: MessageTypeDefinition<_ambit_v1_L4Rule, _ambit_v1_L4Rule__Output>
      L4Source: MessageTypeDefinition<_ambit_v1_L4Source, _ambit_v1_L4Source__Output>
      LoadBalancerPolicy: EnumTypeDefinition
      LocalRateLimit: MessageTypeDefinition<_ambit_v1_LocalRateLimit, _ambit_v1_LocalRateLimit__Output>
      MeshConfig: SubtypeConstructor<typeof grpc.Client, _ambit_v1_MeshConfigClient> & { service: _ambit_v1_MeshConfigDefinition }
      MtlsMode: EnumTypeDefinition
      Node: MessageTypeDefinition<_ambit_v1_Node, _ambit_v1_Node__Output>
      OutlierDetection: MessageTypeDefinition<_ambit_v1_OutlierDetection, _ambit_v1_OutlierDetection__Output>
      PathModifier: MessageTypeDefinition<_ambit_v1_PathModifier, _ambit_v1_PathModifier__Output>
      PeerAuthentication: MessageTypeDefinition<_ambit_v1_PeerAuthentication, _ambit_v1_PeerAuthentication__Output>
      PolicyScope: EnumTypeDefinition
      PortMapping: MessageTypeDefinition<_ambit_v1_PortMapping, _ambit_v1_PortMapping__Output>
      PortMtls: MessageTypeDefinition<_ambit_v1_PortMtls, _ambit_v1_PortMtls__Output>
      RequestMirror: MessageTypeDefinition<_ambit_v1_RequestMirror, _ambit_v1_RequestMirror__Output>
      RequestRedirect: MessageTypeDefinition<_ambit_v1_RequestRedirect, _ambit_v1_RequestRedirect__Output>
      Resource: MessageTypeDefinition<_ambit_v1_Resource, _ambit_v1_Resource__Output>
      Retries: MessageTypeDefinition<_ambit_v1_Retries, _ambit_v1_Retries__Output>
      Route: MessageTypeDefinition<_ambit_v1_Route, _ambit_v1_Route__Output>
      RouteBackend: MessageTypeDefinition<_ambit_v1_RouteBackend, _ambit_v1_RouteBackend__Output>
      RouteFilter: MessageTypeDefinition<_ambit_v1_RouteFilter, _ambit_v1_RouteFilter__Output>
      RouteKind: EnumTypeDefinition
      RouteMatch: MessageTypeDefinition<_ambit_v1_RouteMatch, _ambit_v1_RouteMatch__Output>
      RouteParent: MessageTypeDefinition<_ambit_v1_RouteParent, _ambit_v1_RouteParent__Output>
      RouteRule: MessageTypeDefinition<_ambit_v1_RouteRule, _ambit_v1_RouteRule__Output>
      Service: MessageTypeDefinition<_ambit_v1_Service, _ambit_v1_Service__Output>
      ServicePort: MessageTypeDefinition<_ambit_v1_ServicePort, _ambit_v1_ServicePort__Output>
      StringMatch: MessageTypeDefinition<_ambit_v1_StringMatch, _ambit_v1_StringMatch__Output>
      StringMatchType: EnumTypeDefinition
      TargetRef: MessageTypeDefinition<_ambit_v1_TargetRef, _ambit_v1_TargetRef__Output>
      TrafficPolicy: MessageTypeDefinition<_ambit_v1_TrafficPolicy, _ambit_v1_TrafficPolicy__Output>
      UrlRewrite: MessageTypeDefinition<_ambit_v1_UrlRewrite, _ambit_v1_UrlRewrite__Output>
      WaypointRef: MessageTypeDefinition<_ambit_v1_WaypointRef, _ambit_v1_WaypointRef__Output>
      Workload: MessageTypeDefinition<_ambit_v1_Workload, _ambit_v1_Workload__Output>
      WorkloadSelector: MessageTypeDefinition<_ambit_v1_WorkloadSelector, _ambit_v1_WorkloadSelector__Output>
    }
  }
}

