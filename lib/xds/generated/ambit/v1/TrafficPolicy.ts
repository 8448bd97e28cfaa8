// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { ConnectionPool as _ambit_v1_ConnectionPool, ConnectionPool__Output as _ambit_v1_ConnectionPool__Output } from '../../ambit/v1/ConnectionPool.js';
import type { OutlierDetection as _ambit_v1_OutlierDetection, OutlierDetection__Output as _ambit_v1_OutlierDetection__Output } from '../../ambit/v1/OutlierDetection.js';
import type { Retries as _ambit_v1_Retries, Retries__Output as _ambit_v1_Retries__Output } from '../../ambit/v1/Retries.js';
import type { Fault as _ambit_v1_Fault, Fault__Output as _ambit_v1_Fault__Output } from '../../ambit/v1/Fault.js';
import type { LocalRateLimit as _ambit_v1_LocalRateLimit, LocalRateLimit__Output as _ambit_v1_LocalRateLimit__Output } from '../../ambit/v1/LocalRateLimit.js';

/**
 * What a waypoint does with requests to a Service (TrafficPolicy's L7 half).
 * Durations are milliseconds; 0 means unset (the waypoint's default) unless
 * a field says otherwise. Request-level parts (retries, timeout, fault, rate
 * limit) apply to requests addressed to the Service; endpoint-level parts
 * (connection pool, outlier detection) to the Service's endpoints when it is
 * a request's backend.
 */
export interface TrafficPolicy {
  /**
   * The policy's own name, for logs and metrics: "<namespace>/<name>".
   */
  'name'?: (string);
  'connectionPool'?: (_ambit_v1_ConnectionPool | null);
  'outlierDetection'?: (_ambit_v1_OutlierDetection | null);
  'retries'?: (_ambit_v1_Retries | null);
  /**
   * Whole request, retries included; 0: no timeout.
   */
  'timeoutMs'?: (number);
  'fault'?: (_ambit_v1_Fault | null);
  'localRateLimit'?: (_ambit_v1_LocalRateLimit | null);
}

/**
 * What a waypoint does with requests to a Service (TrafficPolicy's L7 half).
 * Durations are milliseconds; 0 means unset (the waypoint's default) unless
 * a field says otherwise. Request-level parts (retries, timeout, fault, rate
 * limit) apply to requests addressed to the Service; endpoint-level parts
 * (connection pool, outlier detection) to the Service's endpoints when it is
 * a request's backend.
 */
export interface TrafficPolicy__Output {
  /**
   * The policy's own name, for logs and metrics: "<namespace>/<name>".
   */
  'name': (string);
  'connectionPool': (_ambit_v1_ConnectionPool__Output | null);
  'outlierDetection': (_ambit_v1_OutlierDetection__Output | null);
  'retries': (_ambit_v1_Retries__Output | null);
  /**
   * Whole request, retries included; 0: no timeout.
   */
  'timeoutMs': (number);
  'fault': (_ambit_v1_Fault__Output | null);
  'localRateLimit': (_ambit_v1_LocalRateLimit__Output | null);
}
