// Original file: lib/xds/proto/ambit/v1/resources.proto


/**
 * A node of the cluster: where HBONE for the pods on it goes. Resource name:
 * the node's name.
 */
export interface Node {
  'name'?: (string);
  /**
   * The node's InternalIP: its agent's HBONE (15008) listens there.
   */
  'ip'?: (string);
}

/**
 * A node of the cluster: where HBONE for the pods on it goes. Resource name:
 * the node's name.
 */
export interface Node__Output {
  'name': (string);
  /**
   * The node's InternalIP: its agent's HBONE (15008) listens there.
   */
  'ip': (string);
}
