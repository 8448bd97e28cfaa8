// Original file: lib/xds/proto/ambit/v1/resources.proto

export const StringMatchType = {
  EXACT: 'EXACT',
  /**
   * Path only: whole segments ("/foo" matches "/foo" and "/foo/bar", not "/foobar").
   */
  PATH_PREFIX: 'PATH_PREFIX',
  /**
   * RE2 syntax, matching the whole value.
   */
  REGULAR_EXPRESSION: 'REGULAR_EXPRESSION',
} as const;

export type StringMatchType =
  | 'EXACT'
  | 0
  /**
   * Path only: whole segments ("/foo" matches "/foo" and "/foo/bar", not "/foobar").
   */
  | 'PATH_PREFIX'
  | 1
  /**
   * RE2 syntax, matching the whole value.
   */
  | 'REGULAR_EXPRESSION'
  | 2

export type StringMatchType__Output = typeof StringMatchType[keyof typeof StringMatchType]
