/**
 * How agents reach the controller on 15010. TLS, with the controller's certificate verified
 * against the trust bundle the node read out of band (never against anything the channel
 * says), its DNS name (the name of its Service, which no CSR can obtain) and its SPIFFE ID.
 * gRPC sends call metadata, and so the bearer token, only on a connection whose handshake
 * and these checks passed. Plaintext exists only behind AMBIT_INSECURE_CONTROL_PLANE=true,
 * for development, and says so loudly.
 */
import * as grpc from '@grpc/grpc-js';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { AmbitError } from '../errors.js';
import { leafIdentity, parseSpiffeId, type TrustSource } from '../identity/index.js';
import type { Logger } from '../log.js';
import { realTimers, type Timers } from './timers.js';

export const INSECURE_CONTROL_PLANE_ENV = 'AMBIT_INSECURE_CONTROL_PLANE';
/** How often a component running with a plaintext control plane says so again. */
export const INSECURE_REMINDER_MS = 5 * 60_000;

export type ControlPlaneSecurity =
  | {
      kind: 'tls';
      /** The roots the controller's certificate must chain to. */
      trust: TrustSource;
      /** A DNS name the certificate must carry; sent as SNI (the lab dials an IP). */
      serverName: string;
      /** The SPIFFE ID the certificate must carry (the controller's service account). */
      identity: string;
    }
  | { kind: 'insecure' };

export interface ControllerChannel {
  credentials: grpc.ChannelCredentials;
  options: grpc.ChannelOptions;
  /** For logs. */
  describe: string;
}

const controllerTlsError = (why: string): AmbitError =>
  new AmbitError('AMBIT_ERR_CONTROLLER_TLS', `the controller's certificate was refused: ${why}; nothing was sent to it`);

/**
 * Accepts the server only if its leaf (already chained to the bundle by OpenSSL) carries
 * `serverName` as a DNS SAN and `identity` as its SPIFFE ID. gRPC hands us the target name
 * override as `hostname`, which is `serverName`.
 */
export function controllerIdentityCheck(serverName: string, identity: string): (hostname: string, cert: PeerCertificate) => Error | undefined {
  const id = parseSpiffeId(identity);
  if (!id.ok) throw id.error;
  return (_hostname, cert) => {
    const dns = checkServerIdentity(serverName, cert);
    if (dns) return controllerTlsError(`it is not valid for ${serverName} (${dns.message})`);
    const leaf = leafIdentity(cert.raw, id.value.trustDomain);
    if (!leaf.ok) return controllerTlsError(leaf.error.message);
    if (leaf.value.uri !== id.value.uri) return controllerTlsError(`it is ${leaf.value.uri}, expected ${id.value.uri}`);
    return undefined;
  };
}

/**
 * Feeds the trust bundle to gRPC as its CA certificate: every new connection to the
 * controller verifies against the bundle in force at that moment (a root rotation needs no
 * restart). The agent presents no client certificate; it authenticates with its token.
 */
class TrustProvider implements grpc.experimental.CertificateProvider {
  private readonly subscriptions = new Map<grpc.experimental.CaCertificateUpdateListener, () => void>();

  constructor(private readonly trust: TrustSource) {}

  addCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    // On the next tick, as grpc-js's own providers do: it registers before it listens.
    process.nextTick(listener, { caCertificate: Buffer.from(this.trust.current().rootPem) });
    this.subscriptions.set(listener, this.trust.onChange((b) => listener({ caCertificate: Buffer.from(b.rootPem) })));
  }

  removeCaCertificateListener(listener: grpc.experimental.CaCertificateUpdateListener): void {
    this.subscriptions.get(listener)?.();
    this.subscriptions.delete(listener);
  }

  addIdentityCertificateListener(): void {}
  removeIdentityCertificateListener(): void {}
}

/**
 * The hint for a failed connection to the controller whose cause was TLS (grpc-js reports
 * it only as text): a certificate OpenSSL or our identity check refused, or a peer that
 * does not speak TLS. Undefined for other failures.
 */
export function controllerTlsFailure(detail: string): string | undefined {
  if (!/AMBIT_ERR_CONTROLLER_TLS|certificate|wrong version number|before secure TLS connection/i.test(detail)) return undefined;
  return `the controller could not be verified, so nothing was sent to it: check that AMBIT_CONTROLLER_ADDRESS reaches the controller, that the trust bundle is current (both roots during a root rotation), and that ${INSECURE_CONTROL_PLANE_ENV} is set on both sides or neither`;
}

/** The credentials and options of a channel to the controller. */
export function controllerChannel(sec: ControlPlaneSecurity): ControllerChannel {
  if (sec.kind === 'insecure') {
    return { credentials: grpc.credentials.createInsecure(), options: {}, describe: 'PLAINTEXT (development only)' };
  }
  return {
    credentials: grpc.experimental.createCertificateProviderChannelCredentials(new TrustProvider(sec.trust), null, {
      checkServerIdentity: controllerIdentityCheck(sec.serverName, sec.identity),
    }),
    options: { 'grpc.ssl_target_name_override': sec.serverName },
    describe: `TLS, verified as ${sec.serverName} and ${sec.identity}`,
  };
}

/**
 * Says at warn level, now and every few minutes until stopped, that the control plane is
 * plaintext: tokens and certificates cross the node network readable and forgeable.
 */
export function warnInsecureControlPlane(log: Logger, side: string, timers: Timers = realTimers): () => void {
  const say = () =>
    log.warn(
      { insecureControlPlane: true, env: INSECURE_CONTROL_PLANE_ENV },
      `!!! INSECURE CONTROL PLANE: ${side} speaks PLAINTEXT gRPC on 15010 (${INSECURE_CONTROL_PLANE_ENV}=true). Agent tokens and certificates cross the network readable, and anyone on the node network can pose as the controller. Development only: unset it. !!!`,
    );
  say();
  let timer: unknown;
  let stopped = false;
  const again = () => {
    timer = timers.setTimeout(() => {
      say();
      if (!stopped) again();
    }, INSECURE_REMINDER_MS);
  };
  again();
  return () => {
    stopped = true;
    timers.clearTimeout(timer);
  };
}
