// Original file: lib/xds/proto/ambit/v1/resources.proto


export interface LocalRateLimit {
  'maxTokens'?: (number);
  'tokensPerFill'?: (number);
  'fillIntervalMs'?: (number);
}

export interface LocalRateLimit__Output {
  'maxTokens': (number);
  'tokensPerFill': (number);
  'fillIntervalMs': (number);
}
