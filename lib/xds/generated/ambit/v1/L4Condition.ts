// Original file: lib/xds/proto/ambit/v1/resources.proto


/**
 * A `when` condition whose key an L4 proxy can evaluate (source.ip,
 * source.namespace, source.principal, destination.ip, destination.port,
 * connection.sni); request.* conditions are L7 and only flagged by has_l7.
 */
export interface L4Condition {
  'key'?: (string);
  'values'?: (string)[];
  'notValues'?: (string)[];
}

/**
 * A `when` condition whose key an L4 proxy can evaluate (source.ip,
 * source.namespace, source.principal, destination.ip, destination.port,
 * connection.sni); request.* conditions are L7 and only flagged by has_l7.
 */
export interface L4Condition__Output {
  'key': (string);
  'values': (string)[];
  'notValues': (string)[];
}
