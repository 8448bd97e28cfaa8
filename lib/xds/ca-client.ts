import * as grpc from '@grpc/grpc-js';
import { bearerMetadata, readToken, type TokenSource } from './auth.js';
import type { ControllerChannel } from './credentials.js';
import { loadAmbitProtos } from './proto.js';
import type { CertResponse, CsrRequest } from './types.js';

/**
 * The agent side of the MeshCA service. Refusals come back as values with
 * the gRPC status (PERMISSION_DENIED when the identity has no pod on this
 * node, INVALID_ARGUMENT for a bad CSR, UNAUTHENTICATED for a bad token).
 */

export interface MeshCaClientOptions {
  address: string;
  /** TLS verified against the out-of-band trust bundle (see `controllerChannel`). */
  channel: ControllerChannel;
  /** Sent as `authorization: Bearer <token>`, over the verified channel only. */
  token?: TokenSource;
}

export interface SignFailure {
  code: grpc.status;
  /** e.g. `PERMISSION_DENIED` */
  codeName: string;
  message: string;
}

export type SignResult = { ok: true; value: CertResponse } | { ok: false; error: SignFailure };

export interface MeshCaClient {
  sign(req: { csrPem: string; spiffeId: string; ttlSeconds?: number }, opts?: { deadlineMs?: number }): Promise<SignResult>;
  close(): void;
}

export function createMeshCaClient(opts: MeshCaClientOptions): MeshCaClient {
  const { MeshCaClient: Ctor } = loadAmbitProtos();
  const client = new Ctor(opts.address, opts.channel.credentials, opts.channel.options);
  const rpc = client as unknown as {
    Sign(req: CsrRequest, md: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: CertResponse) => void): void;
  };
  return {
    sign: async (req, callOpts = {}) => {
      let md: grpc.Metadata;
      try {
        md = bearerMetadata(await readToken(opts.token));
      } catch (err) {
        return { ok: false, error: { code: grpc.status.UNAUTHENTICATED, codeName: 'UNAUTHENTICATED', message: `reading the agent token failed: ${String(err)}` } };
      }
      const deadline = new Date(Date.now() + (callOpts.deadlineMs ?? 10_000));
      return new Promise<SignResult>((resolve) => {
        rpc.Sign({ csrPem: req.csrPem, spiffeId: req.spiffeId, ttlSeconds: req.ttlSeconds ?? 0 }, md, { deadline }, (err, res) => {
          if (err || !res) {
            const code = err?.code ?? grpc.status.UNKNOWN;
            resolve({ ok: false, error: { code, codeName: grpc.status[code] ?? String(code), message: err?.details || err?.message || 'no response' } });
          } else resolve({ ok: true, value: res });
        });
      });
    },
    close: () => client.close(),
  };
}
