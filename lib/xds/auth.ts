import * as grpc from '@grpc/grpc-js';

/** The metadata key agents authenticate with: `authorization: Bearer <token>`. */
export const AUTHORIZATION = 'authorization';

/** A token, or a function that reads the current one (projected tokens rotate). */
export type TokenSource = string | (() => string | Promise<string>);

export async function readToken(source: TokenSource | undefined): Promise<string | undefined> {
  if (source === undefined) return undefined;
  return typeof source === 'string' ? source : await source();
}

export function bearerMetadata(token: string | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token) md.set(AUTHORIZATION, `Bearer ${token}`);
  return md;
}

/** The bearer token of a call, or undefined when there is none. */
export function bearerToken(md: grpc.Metadata): string | undefined {
  const v = md.get(AUTHORIZATION)[0];
  if (typeof v !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(v);
  return m?.[1];
}
