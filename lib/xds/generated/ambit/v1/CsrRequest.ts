// Original file: lib/xds/proto/ambit/v1/ca.proto


export interface CsrRequest {
  /**
   * PKCS#10, PEM; its only SAN must be spiffe_id.
   */
  'csrPem'?: (string);
  /**
   * spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>
   */
  'spiffeId'?: (string);
  /**
   * Requested lifetime; 0 means the CA's default (24 h). Capped by the CA.
   */
  'ttlSeconds'?: (number);
}

export interface CsrRequest__Output {
  /**
   * PKCS#10, PEM; its only SAN must be spiffe_id.
   */
  'csrPem': (string);
  /**
   * spiffe://<trust-domain>/ns/<namespace>/sa/<serviceaccount>
   */
  'spiffeId': (string);
  /**
   * Requested lifetime; 0 means the CA's default (24 h). Capped by the CA.
   */
  'ttlSeconds': (number);
}
