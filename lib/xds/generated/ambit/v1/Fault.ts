// Original file: lib/xds/proto/ambit/v1/resources.proto


export interface Fault {
  /**
   * 0: no delay fault.
   */
  'delayMs'?: (number);
  /**
   * Share of requests delayed, 0..100 (millionths are not needed here).
   */
  'delayPercentage'?: (number | string);
  /**
   * 0: no abort fault.
   */
  'abortStatus'?: (number);
  'abortPercentage'?: (number | string);
}

export interface Fault__Output {
  /**
   * 0: no delay fault.
   */
  'delayMs': (number);
  /**
   * Share of requests delayed, 0..100 (millionths are not needed here).
   */
  'delayPercentage': (number);
  /**
   * 0: no abort fault.
   */
  'abortStatus': (number);
  'abortPercentage': (number);
}
