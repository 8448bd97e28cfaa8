// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { BackendRef as _ambit_v1_BackendRef, BackendRef__Output as _ambit_v1_BackendRef__Output } from '../../ambit/v1/BackendRef.js';
import type { RouteFilter as _ambit_v1_RouteFilter, RouteFilter__Output as _ambit_v1_RouteFilter__Output } from '../../ambit/v1/RouteFilter.js';

export interface RouteBackend {
  'ref'?: (_ambit_v1_BackendRef | null);
  /**
   * 0 sends nothing to this backend.
   */
  'weight'?: (number);
  /**
   * Header modifiers only.
   */
  'filters'?: (_ambit_v1_RouteFilter)[];
}

export interface RouteBackend__Output {
  'ref': (_ambit_v1_BackendRef__Output | null);
  /**
   * 0 sends nothing to this backend.
   */
  'weight': (number);
  /**
   * Header modifiers only.
   */
  'filters': (_ambit_v1_RouteFilter__Output)[];
}
