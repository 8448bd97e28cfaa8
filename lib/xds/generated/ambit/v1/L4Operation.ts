// Original file: lib/xds/proto/ambit/v1/resources.proto


/**
 * Ports are L4; methods, paths and hosts (with Istio's prefix/suffix "*"
 * wildcards) are HTTP: a waypoint checks them per request, a node agent reads
 * them fail-closed (see L4Rule).
 */
export interface L4Operation {
  'ports'?: (number)[];
  'notPorts'?: (number)[];
  'methods'?: (string)[];
  'notMethods'?: (string)[];
  'paths'?: (string)[];
  'notPaths'?: (string)[];
  'hosts'?: (string)[];
  'notHosts'?: (string)[];
}

/**
 * Ports are L4; methods, paths and hosts (with Istio's prefix/suffix "*"
 * wildcards) are HTTP: a waypoint checks them per request, a node agent reads
 * them fail-closed (see L4Rule).
 */
export interface L4Operation__Output {
  'ports': (number)[];
  'notPorts': (number)[];
  'methods': (string)[];
  'notMethods': (string)[];
  'paths': (string)[];
  'notPaths': (string)[];
  'hosts': (string)[];
  'notHosts': (string)[];
}
