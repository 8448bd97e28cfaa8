// Original file: lib/xds/proto/ambit/v1/resources.proto


export interface RouteParent {
  'namespace'?: (string);
  'name'?: (string);
  /**
   * Restricts the route to this Service port (the port the client dialled on
   * the ClusterIP, not the target port); 0: every port of the Service
   * (Gateway API MeshPorts).
   */
  'port'?: (number);
  /**
   * A consumer route (GAMMA): the route's namespace differs from the
   * Service's, so it applies only to requests from clients in the route's
   * namespace, and there takes precedence over the Service's own routes.
   */
  'consumer'?: (boolean);
}

export interface RouteParent__Output {
  'namespace': (string);
  'name': (string);
  /**
   * Restricts the route to this Service port (the port the client dialled on
   * the ClusterIP, not the target port); 0: every port of the Service
   * (Gateway API MeshPorts).
   */
  'port': (number);
  /**
   * A consumer route (GAMMA): the route's namespace differs from the
   * Service's, so it applies only to requests from clients in the route's
   * namespace, and there takes precedence over the Service's own routes.
   */
  'consumer': (boolean);
}
