// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { StringMatchType as _ambit_v1_StringMatchType, StringMatchType__Output as _ambit_v1_StringMatchType__Output } from '../../ambit/v1/StringMatchType.js';

export interface StringMatch {
  'type'?: (_ambit_v1_StringMatchType);
  'value'?: (string);
  /**
   * Header or query parameter name; empty for a path.
   */
  'name'?: (string);
}

export interface StringMatch__Output {
  'type': (_ambit_v1_StringMatchType__Output);
  'value': (string);
  /**
   * Header or query parameter name; empty for a path.
   */
  'name': (string);
}
