// Original file: lib/xds/proto/ambit/v1/resources.proto


// Original file: lib/xds/proto/ambit/v1/resources.proto

export const _ambit_v1_PathModifier_Type = {
  REPLACE_FULL_PATH: 'REPLACE_FULL_PATH',
  REPLACE_PREFIX_MATCH: 'REPLACE_PREFIX_MATCH',
} as const;

export type _ambit_v1_PathModifier_Type =
  | 'REPLACE_FULL_PATH'
  | 0
  | 'REPLACE_PREFIX_MATCH'
  | 1

export type _ambit_v1_PathModifier_Type__Output = typeof _ambit_v1_PathModifier_Type[keyof typeof _ambit_v1_PathModifier_Type]

export interface PathModifier {
  'type'?: (_ambit_v1_PathModifier_Type);
  'value'?: (string);
}

export interface PathModifier__Output {
  'type': (_ambit_v1_PathModifier_Type__Output);
  'value': (string);
}
