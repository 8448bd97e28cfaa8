// Original file: lib/xds/proto/ambit/v1/resources.proto


export interface ConnectionPool {
  /**
   * 0: unlimited.
   */
  'maxConnections'?: (number);
  /**
   * Requests waiting for a connection slot; beyond it they get 503 (flag UO).
   */
  'maxPendingRequests'?: (number);
  /**
   * 0: unlimited.
   */
  'maxRequestsPerConnection'?: (number);
  'connectTimeoutMs'?: (number);
}

export interface ConnectionPool__Output {
  /**
   * 0: unlimited.
   */
  'maxConnections': (number);
  /**
   * Requests waiting for a connection slot; beyond it they get 503 (flag UO).
   */
  'maxPendingRequests': (number);
  /**
   * 0: unlimited.
   */
  'maxRequestsPerConnection': (number);
  'connectTimeoutMs': (number);
}
