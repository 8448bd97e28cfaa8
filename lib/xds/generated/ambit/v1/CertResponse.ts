// Original file: lib/xds/proto/ambit/v1/ca.proto


export interface CertResponse {
  /**
   * Leaf first.
   */
  'certChainPem'?: (string);
  /**
   * The controller's trust bundle, for diagnostics only. Agents never trust a root from the
   * channel: they verify the chain above against the bundle they read out of band
   * (ConfigMap ambit-root-ca) and refuse it if it does not chain to that.
   */
  'rootPem'?: (string);
}

export interface CertResponse__Output {
  /**
   * Leaf first.
   */
  'certChainPem': (string);
  /**
   * The controller's trust bundle, for diagnostics only. Agents never trust a root from the
   * channel: they verify the chain above against the bundle they read out of band
   * (ConfigMap ambit-root-ca) and refuse it if it does not chain to that.
   */
  'rootPem': (string);
}
