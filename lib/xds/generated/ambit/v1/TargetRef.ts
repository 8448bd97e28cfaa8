// Original file: lib/xds/proto/ambit/v1/resources.proto


export interface TargetRef {
  'group'?: (string);
  'kind'?: (string);
  'name'?: (string);
}

export interface TargetRef__Output {
  'group': (string);
  'kind': (string);
  'name': (string);
}
