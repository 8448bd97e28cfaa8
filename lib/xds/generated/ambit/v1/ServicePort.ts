// Original file: lib/xds/proto/ambit/v1/resources.proto


export interface ServicePort {
  'name'?: (string);
  'port'?: (number);
  /**
   * Numeric targetPort; 0 when the Service names the port (see target_port_name).
   */
  'targetPort'?: (number);
  'targetPortName'?: (string);
  'protocol'?: (string);
  'appProtocol'?: (string);
}

export interface ServicePort__Output {
  'name': (string);
  'port': (number);
  /**
   * Numeric targetPort; 0 when the Service names the port (see target_port_name).
   */
  'targetPort': (number);
  'targetPortName': (string);
  'protocol': (string);
  'appProtocol': (string);
}
