import { AmbitError } from '../../lib/errors.js';

/**
 * Kubernetes API failures. The store throws these for requests it refuses
 * (like the API machinery does), the server turns them into `Status` bodies,
 * and in-process callers can switch on `reason` exactly as a client-go user
 * switches on `apierrors.IsNotFound`.
 */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Expired'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'InternalError';

const HTTP_CODE: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  AlreadyExists: 409,
  Conflict: 409,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  InternalError: 500,
};

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  /** The fields an Invalid answer is about; kubectl prints one `* field: message` line each. */
  causes?: { reason: 'FieldValueInvalid'; message: string; field: string }[];
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends AmbitError {
  readonly reason: StatusReason;
  readonly httpStatus: number;
  readonly details: StatusDetails | undefined;

  constructor(reason: StatusReason, message: string, details?: StatusDetails) {
    super('AMBIT_ERR_API', message);
    this.name = 'ApiError';
    this.reason = reason;
    this.httpStatus = HTTP_CODE[reason];
    this.details = details;
  }

  toStatus(): Status {
    const s: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.httpStatus,
    };
    if (this.details) s.details = this.details;
    return s;
  }
}

export function isApiError(err: unknown, reason?: StatusReason): err is ApiError {
  return err instanceof ApiError && (reason === undefined || err.reason === reason);
}
