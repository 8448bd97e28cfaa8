// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { RouteMatch as _ambit_v1_RouteMatch, RouteMatch__Output as _ambit_v1_RouteMatch__Output } from '../../ambit/v1/RouteMatch.js';
import type { RouteFilter as _ambit_v1_RouteFilter, RouteFilter__Output as _ambit_v1_RouteFilter__Output } from '../../ambit/v1/RouteFilter.js';
import type { RouteBackend as _ambit_v1_RouteBackend, RouteBackend__Output as _ambit_v1_RouteBackend__Output } from '../../ambit/v1/RouteBackend.js';

export interface RouteRule {
  /**
   * The rule's name, or "" (metrics and logs name "<route>/<rule index>" then).
   */
  'name'?: (string);
  /**
   * Empty: every request (PathPrefix "/").
   */
  'matches'?: (_ambit_v1_RouteMatch)[];
  'filters'?: (_ambit_v1_RouteFilter)[];
  /**
   * Empty with no redirect: the request gets 500 (Gateway API: no backends).
   */
  'backends'?: (_ambit_v1_RouteBackend)[];
  /**
   * 0: none.
   */
  'requestTimeoutMs'?: (number);
  'backendRequestTimeoutMs'?: (number);
}

export interface RouteRule__Output {
  /**
   * The rule's name, or "" (metrics and logs name "<route>/<rule index>" then).
   */
  'name': (string);
  /**
   * Empty: every request (PathPrefix "/").
   */
  'matches': (_ambit_v1_RouteMatch__Output)[];
  'filters': (_ambit_v1_RouteFilter__Output)[];
  /**
   * Empty with no redirect: the request gets 500 (Gateway API: no backends).
   */
  'backends': (_ambit_v1_RouteBackend__Output)[];
  /**
   * 0: none.
   */
  'requestTimeoutMs': (number);
  'backendRequestTimeoutMs': (number);
}
