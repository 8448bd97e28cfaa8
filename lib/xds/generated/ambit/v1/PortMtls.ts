// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { MtlsMode as _ambit_v1_MtlsMode, MtlsMode__Output as _ambit_v1_MtlsMode__Output } from '../../ambit/v1/MtlsMode.js';

export interface PortMtls {
  'port'?: (number);
  'mode'?: (_ambit_v1_MtlsMode);
}

export interface PortMtls__Output {
  'port': (number);
  'mode': (_ambit_v1_MtlsMode__Output);
}
