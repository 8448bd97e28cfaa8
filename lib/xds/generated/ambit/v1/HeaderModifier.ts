// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { Header as _ambit_v1_Header, Header__Output as _ambit_v1_Header__Output } from '../../ambit/v1/Header.js';

export interface HeaderModifier {
  'set'?: (_ambit_v1_Header)[];
  'add'?: (_ambit_v1_Header)[];
  'remove'?: (string)[];
}

export interface HeaderModifier__Output {
  'set': (_ambit_v1_Header__Output)[];
  'add': (_ambit_v1_Header__Output)[];
  'remove': (string)[];
}
