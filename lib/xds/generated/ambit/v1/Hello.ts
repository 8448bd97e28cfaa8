// Original file: lib/xds/proto/ambit/v1/mesh_config.proto


export interface Hello {
  'nodeName'?: (string);
  'agentVersion'?: (string);
  /**
   * Resource type ("Workload", "Service", ...) -> the last version the agent
   * applied, so a reconnect resumes without a resend when nothing changed.
   */
  'knownVersions'?: ({[key: string]: string});
}

export interface Hello__Output {
  'nodeName': (string);
  'agentVersion': (string);
  /**
   * Resource type ("Workload", "Service", ...) -> the last version the agent
   * applied, so a reconnect resumes without a resend when nothing changed.
   */
  'knownVersions': ({[key: string]: string});
}
