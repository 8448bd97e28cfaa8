// Original file: lib/xds/proto/ambit/v1/resources.proto


/**
 * A waypoint named by a namespace or Service label (`ambit.dev/use-waypoint`).
 * Its address is the Service of the same name and namespace.
 */
export interface WaypointRef {
  'namespace'?: (string);
  'name'?: (string);
}

/**
 * A waypoint named by a namespace or Service label (`ambit.dev/use-waypoint`).
 * Its address is the Service of the same name and namespace.
 */
export interface WaypointRef__Output {
  'namespace': (string);
  'name': (string);
}
