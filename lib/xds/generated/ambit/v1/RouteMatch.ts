// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { StringMatch as _ambit_v1_StringMatch, StringMatch__Output as _ambit_v1_StringMatch__Output } from '../../ambit/v1/StringMatch.js';

/**
 * Every set part must match. A GRPCRoute method match is compiled into a path
 * match on "/<service>/<method>".
 */
export interface RouteMatch {
  'path'?: (_ambit_v1_StringMatch | null);
  'headers'?: (_ambit_v1_StringMatch)[];
  'queryParams'?: (_ambit_v1_StringMatch)[];
  /**
   * Empty: any method.
   */
  'method'?: (string);
}

/**
 * Every set part must match. A GRPCRoute method match is compiled into a path
 * match on "/<service>/<method>".
 */
export interface RouteMatch__Output {
  'path': (_ambit_v1_StringMatch__Output | null);
  'headers': (_ambit_v1_StringMatch__Output)[];
  'queryParams': (_ambit_v1_StringMatch__Output)[];
  /**
   * Empty: any method.
   */
  'method': (string);
}
