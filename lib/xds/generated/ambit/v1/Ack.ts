// Original file: lib/xds/proto/ambit/v1/mesh_config.proto

import type { ErrorDetail as _ambit_v1_ErrorDetail, ErrorDetail__Output as _ambit_v1_ErrorDetail__Output } from '../../ambit/v1/ErrorDetail.js';

/**
 * ACK when `error` is unset, NACK when set. A NACKed update was not applied
 * at all: the agent keeps its previous state of that type.
 */
export interface Ack {
  'type'?: (string);
  /**
   * The version of the message acknowledged or rejected.
   */
  'version'?: (string);
  /**
   * The nonce of that message; the controller matches on it.
   */
  'nonce'?: (string);
  'error'?: (_ambit_v1_ErrorDetail | null);
}

/**
 * ACK when `error` is unset, NACK when set. A NACKed update was not applied
 * at all: the agent keeps its previous state of that type.
 */
export interface Ack__Output {
  'type': (string);
  /**
   * The version of the message acknowledged or rejected.
   */
  'version': (string);
  /**
   * The nonce of that message; the controller matches on it.
   */
  'nonce': (string);
  'error': (_ambit_v1_ErrorDetail__Output | null);
}
