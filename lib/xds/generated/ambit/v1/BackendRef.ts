// Original file: lib/xds/proto/ambit/v1/resources.proto


export interface BackendRef {
  'namespace'?: (string);
  'name'?: (string);
  'port'?: (number);
}

export interface BackendRef__Output {
  'namespace': (string);
  'name': (string);
  'port': (number);
}
