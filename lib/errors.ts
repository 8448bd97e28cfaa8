/**
 * The error catalogue. Every error Ambit reports to an operator carries a
 * stable `AMBIT_ERR_*` code; docs/errors.md documents each one and a test keeps
 * the two in step. Codes are never renumbered or reused.
 *
 * Expected failures on hot paths are returned as values (see `Result`);
 * `AmbitError` is thrown for bad input at boundaries and for bugs.
 */
export const ErrorCodes = {
  AMBIT_ERR_MANIFEST: 'a Kubernetes manifest is malformed or names something that does not exist',
  AMBIT_ERR_LAB_STATE: 'the lab is not in the state the command needs (not up, already up, crashed)',
  AMBIT_ERR_LAB_SETUP: 'building the lab topology failed (namespaces, links, cgroups)',
  AMBIT_ERR_PRIVILEGE: 'a required privilege, kernel feature or tool is missing',
  AMBIT_ERR_BPF_LOAD: 'loading, pinning or attaching an eBPF program failed',
  AMBIT_ERR_BPF_MAP: 'reading or writing an eBPF map failed',
  AMBIT_ERR_API: 'a Kubernetes API request was invalid or refused',
  AMBIT_ERR_CONFIG: 'a component configuration value is missing or invalid',
  AMBIT_ERR_ORIGINAL_DST: 'a redirected connection has no recorded original destination',
  AMBIT_ERR_UPSTREAM_CONNECT: 'connecting to the destination of a proxied connection failed',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class AmbitError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AmbitError';
    this.code = code;
  }
}

/** A value-typed outcome for expected failures (grpc-js `StatusOr` style). */
export type Result<T, E = AmbitError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const fail = <E>(error: E): Result<never, E> => ({ ok: false, error });
