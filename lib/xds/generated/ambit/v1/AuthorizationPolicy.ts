// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { PolicyScope as _ambit_v1_PolicyScope, PolicyScope__Output as _ambit_v1_PolicyScope__Output } from '../../ambit/v1/PolicyScope.js';
import type { WorkloadSelector as _ambit_v1_WorkloadSelector, WorkloadSelector__Output as _ambit_v1_WorkloadSelector__Output } from '../../ambit/v1/WorkloadSelector.js';
import type { TargetRef as _ambit_v1_TargetRef, TargetRef__Output as _ambit_v1_TargetRef__Output } from '../../ambit/v1/TargetRef.js';
import type { AuthorizationAction as _ambit_v1_AuthorizationAction, AuthorizationAction__Output as _ambit_v1_AuthorizationAction__Output } from '../../ambit/v1/AuthorizationAction.js';
import type { L4Rule as _ambit_v1_L4Rule, L4Rule__Output as _ambit_v1_L4Rule__Output } from '../../ambit/v1/L4Rule.js';

/**
 * Resource name: "<namespace>/<name>".
 */
export interface AuthorizationPolicy {
  'namespace'?: (string);
  'name'?: (string);
  'scope'?: (_ambit_v1_PolicyScope);
  /**
   * Set when scope is WORKLOAD_SELECTOR.
   */
  'selector'?: (_ambit_v1_WorkloadSelector | null);
  'targetRefs'?: (_ambit_v1_TargetRef)[];
  'action'?: (_ambit_v1_AuthorizationAction);
  /**
   * ALLOW with no rules matches nothing (denies all it selects), as in Istio.
   */
  'rules'?: (_ambit_v1_L4Rule)[];
  /**
   * Any rule has L7 fields.
   */
  'hasL7'?: (boolean);
  /**
   * TARGET_REFS only: the target Services that no waypoint serves, by name in
   * the policy's namespace. The destination node agents enforce the policy on
   * every connection to those Services' endpoints on their target ports
   * (reached by ClusterIP or by pod IP alike). A target served by a waypoint,
   * and a Waypoint target, is left to the waypoint.
   */
  'nodeAgentServices'?: (string)[];
}

/**
 * Resource name: "<namespace>/<name>".
 */
export interface AuthorizationPolicy__Output {
  'namespace': (string);
  'name': (string);
  'scope': (_ambit_v1_PolicyScope__Output);
  /**
   * Set when scope is WORKLOAD_SELECTOR.
   */
  'selector': (_ambit_v1_WorkloadSelector__Output | null);
  'targetRefs': (_ambit_v1_TargetRef__Output)[];
  'action': (_ambit_v1_AuthorizationAction__Output);
  /**
   * ALLOW with no rules matches nothing (denies all it selects), as in Istio.
   */
  'rules': (_ambit_v1_L4Rule__Output)[];
  /**
   * Any rule has L7 fields.
   */
  'hasL7': (boolean);
  /**
   * TARGET_REFS only: the target Services that no waypoint serves, by name in
   * the policy's namespace. The destination node agents enforce the policy on
   * every connection to those Services' endpoints on their target ports
   * (reached by ClusterIP or by pod IP alike). A target served by a waypoint,
   * and a Waypoint target, is left to the waypoint.
   */
  'nodeAgentServices': (string)[];
}
