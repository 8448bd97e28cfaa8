// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { Workload as _ambit_v1_Workload, Workload__Output as _ambit_v1_Workload__Output } from '../../ambit/v1/Workload.js';
import type { Service as _ambit_v1_Service, Service__Output as _ambit_v1_Service__Output } from '../../ambit/v1/Service.js';
import type { AuthorizationPolicy as _ambit_v1_AuthorizationPolicy, AuthorizationPolicy__Output as _ambit_v1_AuthorizationPolicy__Output } from '../../ambit/v1/AuthorizationPolicy.js';
import type { PeerAuthentication as _ambit_v1_PeerAuthentication, PeerAuthentication__Output as _ambit_v1_PeerAuthentication__Output } from '../../ambit/v1/PeerAuthentication.js';
import type { Node as _ambit_v1_Node, Node__Output as _ambit_v1_Node__Output } from '../../ambit/v1/Node.js';
import type { Route as _ambit_v1_Route, Route__Output as _ambit_v1_Route__Output } from '../../ambit/v1/Route.js';

/**
 * One resource of any type, with its name (the key for later removals).
 */
export interface Resource {
  'name'?: (string);
  'workload'?: (_ambit_v1_Workload | null);
  'service'?: (_ambit_v1_Service | null);
  'authorizationPolicy'?: (_ambit_v1_AuthorizationPolicy | null);
  'peerAuthentication'?: (_ambit_v1_PeerAuthentication | null);
  'node'?: (_ambit_v1_Node | null);
  'route'?: (_ambit_v1_Route | null);
  'kind'?: "workload"|"service"|"authorizationPolicy"|"peerAuthentication"|"node"|"route";
}

/**
 * One resource of any type, with its name (the key for later removals).
 */
export interface Resource__Output {
  'name': (string);
  'workload'?: (_ambit_v1_Workload__Output | null);
  'service'?: (_ambit_v1_Service__Output | null);
  'authorizationPolicy'?: (_ambit_v1_AuthorizationPolicy__Output | null);
  'peerAuthentication'?: (_ambit_v1_PeerAuthentication__Output | null);
  'node'?: (_ambit_v1_Node__Output | null);
  'route'?: (_ambit_v1_Route__Output | null);
  'kind'?: "workload"|"service"|"authorizationPolicy"|"peerAuthentication"|"node"|"route";
}
