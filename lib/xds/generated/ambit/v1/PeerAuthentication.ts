// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { PolicyScope as _ambit_v1_PolicyScope, PolicyScope__Output as _ambit_v1_PolicyScope__Output } from '../../ambit/v1/PolicyScope.js';
import type { WorkloadSelector as _ambit_v1_WorkloadSelector, WorkloadSelector__Output as _ambit_v1_WorkloadSelector__Output } from '../../ambit/v1/WorkloadSelector.js';
import type { MtlsMode as _ambit_v1_MtlsMode, MtlsMode__Output as _ambit_v1_MtlsMode__Output } from '../../ambit/v1/MtlsMode.js';
import type { PortMtls as _ambit_v1_PortMtls, PortMtls__Output as _ambit_v1_PortMtls__Output } from '../../ambit/v1/PortMtls.js';

/**
 * Resource name: "<namespace>/<name>". The narrowest scope wins.
 */
export interface PeerAuthentication {
  'namespace'?: (string);
  'name'?: (string);
  /**
   * MESH, NAMESPACE or WORKLOAD_SELECTOR.
   */
  'scope'?: (_ambit_v1_PolicyScope);
  'selector'?: (_ambit_v1_WorkloadSelector | null);
  'mode'?: (_ambit_v1_MtlsMode);
  'portLevelMtls'?: (_ambit_v1_PortMtls)[];
}

/**
 * Resource name: "<namespace>/<name>". The narrowest scope wins.
 */
export interface PeerAuthentication__Output {
  'namespace': (string);
  'name': (string);
  /**
   * MESH, NAMESPACE or WORKLOAD_SELECTOR.
   */
  'scope': (_ambit_v1_PolicyScope__Output);
  'selector': (_ambit_v1_WorkloadSelector__Output | null);
  'mode': (_ambit_v1_MtlsMode__Output);
  'portLevelMtls': (_ambit_v1_PortMtls__Output)[];
}
