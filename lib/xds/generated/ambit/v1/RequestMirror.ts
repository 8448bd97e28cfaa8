// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { BackendRef as _ambit_v1_BackendRef, BackendRef__Output as _ambit_v1_BackendRef__Output } from '../../ambit/v1/BackendRef.js';

export interface RequestMirror {
  'backend'?: (_ambit_v1_BackendRef | null);
  /**
   * The share of requests mirrored: numerator / denominator.
   */
  'numerator'?: (number);
  'denominator'?: (number);
}

export interface RequestMirror__Output {
  'backend': (_ambit_v1_BackendRef__Output | null);
  /**
   * The share of requests mirrored: numerator / denominator.
   */
  'numerator': (number);
  'denominator': (number);
}
