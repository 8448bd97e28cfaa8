import * as grpc from '@grpc/grpc-js';
import { parseSpiffeId, signWorkloadCsr, type MeshCa } from '../../lib/identity/index.js';
import type { Logger } from '../../lib/log.js';
import { bearerToken } from '../../lib/xds/auth.js';
import { loadAmbitProtos } from '../../lib/xds/proto.js';
import type { CertResponse, CsrRequest } from '../../lib/xds/types.js';
import type { ControllerMetrics } from '../admin/metrics.js';
import type { Authenticator } from '../auth/authenticator.js';

/**
 * The MeshCA service. An agent may get a certificate for
 * spiffe://<td>/ns/NS/sa/SA only while a pod running as NS/SA is scheduled
 * on its own (authenticated) node: a compromised agent can impersonate
 * only the workloads it hosts anyway. A waypoint proxy may get only its
 * Waypoint's identity (and only while it runs on the node its token names).
 */

export const DEFAULT_CERT_TTL_MS = 24 * 3600_000;
export const MIN_CERT_TTL_MS = 60_000;

export interface CaServiceOptions {
  ca: MeshCa;
  /** The trust bundle, returned beside each certificate for diagnostics. */
  bundlePem: string;
  authenticator: Authenticator;
  /** The authorization rule's source of truth (the model). */
  hasServiceAccountOnNode: (node: string, namespace: string, serviceAccount: string) => boolean;
  /** False until the model has synced: no decisions on a partial view. */
  ready: () => boolean;
  metrics: ControllerMetrics;
  log: Logger;
  defaultTtlMs?: number;
  maxTtlMs?: number;
  now?: () => number;
}

export class CaService {
  constructor(private readonly o: CaServiceOptions) {}

  register(server: grpc.Server): void {
    server.addService(loadAmbitProtos().meshCa, {
      Sign: (call: grpc.ServerUnaryCall<CsrRequest, CertResponse>, cb: grpc.sendUnaryData<CertResponse>) => {
        this.sign(call.request, call.metadata, call.getPeer()).then(
          (r) => (r.ok ? cb(null, r.value) : cb({ code: r.code, details: r.details })),
          (err: unknown) => cb({ code: grpc.status.INTERNAL, details: `bug: ${String(err)}` }),
        );
      },
    });
  }

  /** The whole decision, transport aside. */
  async sign(req: CsrRequest, md: grpc.Metadata, peer = ''): Promise<{ ok: true; value: CertResponse } | { ok: false; code: grpc.status; details: string }> {
    const { log, metrics } = this.o;
    const refuse = (code: grpc.status, reason: string, details: string, ctx: Record<string, unknown> = {}) => {
      metrics.csrRefused.inc({ reason });
      log.warn({ code: 'AMBIT_ERR_CSR_REFUSED', grpcCode: grpc.status[code], reason, peer, identity: req.spiffeId, ...ctx }, `CSR refused: ${details}`);
      return { ok: false as const, code, details };
    };
    const token = bearerToken(md);
    if (!token) return refuse(grpc.status.UNAUTHENTICATED, 'unauthenticated', 'no bearer token: send "authorization: Bearer <token>" metadata');
    const auth = await this.o.authenticator.authenticate(token);
    if (!auth.ok) return refuse(grpc.status.UNAUTHENTICATED, 'unauthenticated', auth.error.message);
    const node = auth.value.node;
    if (!this.o.ready()) return refuse(grpc.status.UNAVAILABLE, 'not_ready', 'the controller has not synced with the API server yet; retry', { node });
    const id = parseSpiffeId(req.spiffeId);
    if (!id.ok) return refuse(grpc.status.INVALID_ARGUMENT, 'invalid', id.error.message, { node });
    const { trustDomain, namespace, serviceAccount } = id.value;
    if (trustDomain !== this.o.ca.trustDomain) {
      return refuse(grpc.status.PERMISSION_DENIED, 'trust_domain', `identity ${id.value.uri} is outside the mesh trust domain ${this.o.ca.trustDomain}`, { node });
    }
    const waypoint = auth.value.waypoint;
    if (waypoint && (namespace !== waypoint.namespace || serviceAccount !== waypoint.name)) {
      return refuse(grpc.status.PERMISSION_DENIED, 'not_own_identity', `a proxy of Waypoint ${waypoint.namespace}/${waypoint.name} may only have that waypoint's identity, not ${id.value.uri}`, { node, waypoint: `${waypoint.namespace}/${waypoint.name}` });
    }
    if (!this.o.hasServiceAccountOnNode(node, namespace, serviceAccount)) {
      return refuse(grpc.status.PERMISSION_DENIED, 'not_on_node', `node ${node} runs no pod with service account ${namespace}/${serviceAccount}, so it may not have ${id.value.uri}`, { node });
    }
    const defaultTtl = this.o.defaultTtlMs ?? DEFAULT_CERT_TTL_MS;
    const maxTtl = Math.max(this.o.maxTtlMs ?? defaultTtl, MIN_CERT_TTL_MS);
    const asked = req.ttlSeconds > 0 ? req.ttlSeconds * 1000 : defaultTtl;
    const ttlMs = Math.min(Math.max(asked, MIN_CERT_TTL_MS), maxTtl);
    const signed = signWorkloadCsr(this.o.ca, req.csrPem, { spiffeId: id.value, ttlMs, ...(this.o.now ? { now: this.o.now } : {}) });
    if (!signed.ok) {
      const caProblem = signed.error.code === 'AMBIT_ERR_CA';
      return refuse(caProblem ? grpc.status.FAILED_PRECONDITION : grpc.status.INVALID_ARGUMENT, caProblem ? 'ca' : 'bad_csr', signed.error.message, { node });
    }
    metrics.csrSigned.inc();
    log.info({ node, identity: id.value.uri, ttlSeconds: Math.round(ttlMs / 1000) }, 'workload certificate issued');
    return { ok: true, value: { certChainPem: signed.value, rootPem: this.o.bundlePem } };
  }
}
