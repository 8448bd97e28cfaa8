// Original file: lib/xds/proto/ambit/v1/mesh_config.proto

import type { Hello as _ambit_v1_Hello, Hello__Output as _ambit_v1_Hello__Output } from '../../ambit/v1/Hello.js';
import type { Ack as _ambit_v1_Ack, Ack__Output as _ambit_v1_Ack__Output } from '../../ambit/v1/Ack.js';

export interface AgentMessage {
  'hello'?: (_ambit_v1_Hello | null);
  'ack'?: (_ambit_v1_Ack | null);
  'message'?: "hello"|"ack";
}

export interface AgentMessage__Output {
  'hello'?: (_ambit_v1_Hello__Output | null);
  'ack'?: (_ambit_v1_Ack__Output | null);
  'message'?: "hello"|"ack";
}
