// Original file: lib/xds/proto/ambit/v1/mesh_config.proto


export interface ErrorDetail {
  'message'?: (string);
}

export interface ErrorDetail__Output {
  'message': (string);
}
