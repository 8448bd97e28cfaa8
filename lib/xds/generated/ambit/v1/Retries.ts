// Original file: lib/xds/proto/ambit/v1/resources.proto


export interface Retries {
  /**
   * Retries after the first try.
   */
  'attempts'?: (number);
  'perTryTimeoutMs'?: (number);
  /**
   * The TrafficPolicy's retryOn words (5xx, gateway-error, reset,
   * connect-failure, retriable-4xx, ...); three-digit codes go in retriable_status_codes.
   */
  'retryOn'?: (string)[];
  'retriableStatusCodes'?: (number)[];
}

export interface Retries__Output {
  /**
   * Retries after the first try.
   */
  'attempts': (number);
  'perTryTimeoutMs': (number);
  /**
   * The TrafficPolicy's retryOn words (5xx, gateway-error, reset,
   * connect-failure, retriable-4xx, ...); three-digit codes go in retriable_status_codes.
   */
  'retryOn': (string)[];
  'retriableStatusCodes': (number)[];
}
