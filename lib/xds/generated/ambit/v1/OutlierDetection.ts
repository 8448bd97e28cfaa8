// Original file: lib/xds/proto/ambit/v1/resources.proto


export interface OutlierDetection {
  /**
   * 0 disables the trigger.
   */
  'consecutive_5xxErrors'?: (number);
  'consecutiveGatewayErrors'?: (number);
  'intervalMs'?: (number);
  'baseEjectionTimeMs'?: (number);
  /**
   * 0..100.
   */
  'maxEjectionPercent'?: (number);
}

export interface OutlierDetection__Output {
  /**
   * 0 disables the trigger.
   */
  'consecutive_5xxErrors': (number);
  'consecutiveGatewayErrors': (number);
  'intervalMs': (number);
  'baseEjectionTimeMs': (number);
  /**
   * 0..100.
   */
  'maxEjectionPercent': (number);
}
