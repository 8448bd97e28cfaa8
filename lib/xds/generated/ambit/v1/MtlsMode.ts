// Original file: lib/xds/proto/ambit/v1/resources.proto

export const MtlsMode = {
  /**
   * Inherit from the wider scope (PERMISSIVE when nothing says otherwise).
   */
  UNSET: 'UNSET',
  STRICT: 'STRICT',
  PERMISSIVE: 'PERMISSIVE',
} as const;

export type MtlsMode =
  /**
   * Inherit from the wider scope (PERMISSIVE when nothing says otherwise).
   */
  | 'UNSET'
  | 0
  | 'STRICT'
  | 1
  | 'PERMISSIVE'
  | 2

export type MtlsMode__Output = typeof MtlsMode[keyof typeof MtlsMode]
