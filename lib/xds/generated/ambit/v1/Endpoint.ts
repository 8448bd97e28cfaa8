// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { PortMapping as _ambit_v1_PortMapping, PortMapping__Output as _ambit_v1_PortMapping__Output } from '../../ambit/v1/PortMapping.js';

export interface Endpoint {
  /**
   * The Workload this endpoint is; empty for endpoints that are not pods.
   */
  'workloadUid'?: (string);
  'address'?: (string);
  'node'?: (string);
  'ready'?: (boolean);
  'ports'?: (_ambit_v1_PortMapping)[];
}

export interface Endpoint__Output {
  /**
   * The Workload this endpoint is; empty for endpoints that are not pods.
   */
  'workloadUid': (string);
  'address': (string);
  'node': (string);
  'ready': (boolean);
  'ports': (_ambit_v1_PortMapping__Output)[];
}
