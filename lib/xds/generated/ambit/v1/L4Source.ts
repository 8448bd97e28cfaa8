// Original file: lib/xds/proto/ambit/v1/resources.proto


/**
 * Principals are "<td>/ns/<ns>/sa/<sa>" (no spiffe:// prefix), with Istio's
 * prefix/suffix "*" wildcards. Within a source every set field must match;
 * each field is an OR over its values.
 */
export interface L4Source {
  'principals'?: (string)[];
  'notPrincipals'?: (string)[];
  'namespaces'?: (string)[];
  'notNamespaces'?: (string)[];
  'ipBlocks'?: (string)[];
  'notIpBlocks'?: (string)[];
}

/**
 * Principals are "<td>/ns/<ns>/sa/<sa>" (no spiffe:// prefix), with Istio's
 * prefix/suffix "*" wildcards. Within a source every set field must match;
 * each field is an OR over its values.
 */
export interface L4Source__Output {
  'principals': (string)[];
  'notPrincipals': (string)[];
  'namespaces': (string)[];
  'notNamespaces': (string)[];
  'ipBlocks': (string)[];
  'notIpBlocks': (string)[];
}
