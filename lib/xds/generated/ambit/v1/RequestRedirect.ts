// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { PathModifier as _ambit_v1_PathModifier, PathModifier__Output as _ambit_v1_PathModifier__Output } from '../../ambit/v1/PathModifier.js';

export interface RequestRedirect {
  /**
   * Empty: keep the request's.
   */
  'scheme'?: (string);
  'hostname'?: (string);
  'path'?: (_ambit_v1_PathModifier | null);
  /**
   * 0: keep the request's (or the scheme's default when the scheme changes).
   */
  'port'?: (number);
  'statusCode'?: (number);
}

export interface RequestRedirect__Output {
  /**
   * Empty: keep the request's.
   */
  'scheme': (string);
  'hostname': (string);
  'path': (_ambit_v1_PathModifier__Output | null);
  /**
   * 0: keep the request's (or the scheme's default when the scheme changes).
   */
  'port': (number);
  'statusCode': (number);
}
