/**
 * What a failed Kubernetes API request says, as one value every client of
 * the API in the controller reads the same way (the waypoint reconciler,
 * the leader election's Lease lock).
 */

/** An API request that failed: the HTTP status (undefined when none came back) and the API server's message. */
export class ApiRequestError extends Error {
  constructor(
    readonly code: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

/** The status and the Status message of a client-node failure, without its headers. */
export function toApiRequestError(err: unknown): ApiRequestError {
  if (err instanceof ApiRequestError) return err;
  const e = err as { code?: unknown; body?: unknown; message?: unknown };
  const code = typeof e?.code === 'number' ? e.code : undefined;
  let message: string | undefined;
  const body = e?.body;
  if (typeof body === 'string') {
    try {
      message = (JSON.parse(body) as { message?: string }).message;
    } catch {
      message = body || undefined;
    }
  } else if (typeof body === 'object' && body !== null) message = (body as { message?: string }).message;
  message ??= code === undefined ? String(e?.message ?? err) : `HTTP ${code}`;
  return new ApiRequestError(code, message);
}
