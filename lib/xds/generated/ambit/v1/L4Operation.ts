// Original file: lib/xds/proto/ambit/v1/resources.proto


export interface L4Operation {
  'ports'?: (number)[];
  'notPorts'?: (number)[];
}

export interface L4Operation__Output {
  'ports': (number)[];
  'notPorts': (number)[];
}
