import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ApiError } from './status.js';

/**
 * Reading request bodies. Clients send JSON (client libraries) or YAML
 * (`kubectl` with some flags, curl users); anything else is a 400 with the
 * parser's reason, never an exception that escapes the request.
 */

/** Reads the whole body, refusing (413) more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): ApiError {
  return new ApiError('RequestEntityTooLarge', `the request body is larger than the limit of ${limit} bytes`);
}

/** Parses a JSON or YAML body into an object or array. */
export function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (media.includes('protobuf') || media.includes('cbor')) {
    throw new ApiError('UnsupportedMediaType', `the lab API server accepts JSON or YAML bodies, not ${media}`);
  }
  const text = raw.toString('utf8');
  if (text.trim() === '') throw new ApiError('BadRequest', 'the request body is empty; send a JSON or YAML object');
  let jsonError: string;
  try {
    return checkContainer(JSON.parse(text));
  } catch (err) {
    if (err instanceof ApiError) throw err;
    jsonError = (err as Error).message;
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new ApiError('BadRequest', `the request body is neither valid JSON (${jsonError}) nor valid YAML (${firstLine((err as Error).message)})`);
  }
  if (typeof doc !== 'object' || doc === null) {
    throw new ApiError('BadRequest', `the request body is not a JSON or YAML object (JSON parse error: ${jsonError})`);
  }
  return doc;
}

function checkContainer(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) throw new ApiError('BadRequest', `the request body must be a JSON object or array, got ${v === null ? 'null' : typeof v}`);
  return v;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!;
}
