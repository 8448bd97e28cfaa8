// Original file: lib/xds/proto/ambit/v1/resources.proto


/**
 * How one Service port maps to this endpoint's port (named target ports resolve per pod).
 */
export interface PortMapping {
  'servicePort'?: (number);
  'targetPort'?: (number);
}

/**
 * How one Service port maps to this endpoint's port (named target ports resolve per pod).
 */
export interface PortMapping__Output {
  'servicePort': (number);
  'targetPort': (number);
}
