import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { logger } from '../../lib/log.js';
import { checkShape, timestamp } from './object-rules.js';
import { isPlainObject } from './patch.js';
import { AUTHENTICATION_GROUP } from './resources.js';
import { ApiError } from './status.js';
import type { ObjectStore } from './store.js';

/**
 * Service account tokens, as kube-apiserver issues and checks them.
 * TokenRequest (`POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token`)
 * mints one; TokenReview (`POST /apis/authentication.k8s.io/v1/tokenreviews`)
 * says whose it is. Request and response bodies, defaults, validation and the
 * review's `error` strings follow upstream (pkg/registry/core/serviceaccount,
 * pkg/serviceaccount); the difference is the token itself: an opaque random
 * string, not a signed JWT, so the registry remembers the claims a JWT would
 * carry. As in Kubernetes, a token dies with its bound pod (or with its
 * service account, if that is deleted and recreated), whatever its expiry.
 */

const log = logger('lab', 'apiserver');

/** The API server's audience (kubeadm's default issuer): what a TokenRequest without audiences gets and a TokenReview without audiences checks. */
export const API_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';
const DEFAULT_EXPIRATION_SECONDS = 3600;
/** Kubernetes refuses shorter lifetimes (ValidateTokenRequest), it does not round them up. */
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;
/** How long an expired token is still remembered, so that its review says "expired" rather than "invalid". */
export const EXPIRED_RETENTION_MS = 60 * 60_000;

/** The `user.extra` keys kube-apiserver reports for a pod-bound token (k8s.io/apiserver/pkg/authentication/serviceaccount). */
export const EXTRA_POD_NAME = 'authentication.kubernetes.io/pod-name';
export const EXTRA_POD_UID = 'authentication.kubernetes.io/pod-uid';
export const EXTRA_NODE_NAME = 'authentication.kubernetes.io/node-name';
export const EXTRA_NODE_UID = 'authentication.kubernetes.io/node-uid';
export const EXTRA_CREDENTIAL_ID = 'authentication.kubernetes.io/credential-id';

const API_VERSION = `${AUTHENTICATION_GROUP}/v1` as const;
const TOKEN_REQUEST = { group: AUTHENTICATION_GROUP, version: 'v1', kind: 'TokenRequest', plural: 'tokenrequests' };
const TOKEN_REVIEW = { group: AUTHENTICATION_GROUP, version: 'v1', kind: 'TokenReview', plural: 'tokenreviews' };
/** The prefix of every review error, as kube-apiserver's bearer-token authenticator words it. */
const INVALID = 'invalid bearer token';

export interface BoundObjectReference {
  kind: string;
  apiVersion?: string;
  name: string;
  uid?: string;
}

export interface TokenRequest {
  apiVersion: typeof API_VERSION;
  kind: 'TokenRequest';
  metadata: { name: string; namespace: string; creationTimestamp: string };
  spec: { audiences: string[]; expirationSeconds: number; boundObjectRef?: BoundObjectReference };
  status: { token: string; expirationTimestamp: string };
}

export interface UserInfo {
  username: string;
  uid: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/** As kube-apiserver sends it: `authenticated` and `audiences` only on success, `error` only on failure, `user` always. */
export type TokenReviewStatus = { authenticated: true; user: UserInfo; audiences: string[] } | { user: Record<string, never>; error: string };

export interface TokenReview {
  apiVersion: typeof API_VERSION;
  kind: 'TokenReview';
  metadata: Record<string, unknown>;
  spec: { token: string; audiences?: string[] };
  status: TokenReviewStatus;
}

/** What a JWT would carry: who, for whom, until when, bound to what. */
interface Claims {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  audiences: readonly string[];
  /** Epoch milliseconds. */
  expires: number;
  /** The token's id (a JWT's `jti`), reported as its credential id. */
  id: string;
  pod?: { name: string; uid: string };
  /** The node the bound pod was scheduled to when the token was issued. */
  node?: { name: string; uid?: string };
}

export interface TokenRegistryOptions {
  /** Where service accounts, pods and nodes are looked up. */
  store: ObjectStore;
  /** The clock for issuing and expiring tokens; injectable for tests. */
  now?: () => Date;
}

/** Issues and reviews service account tokens; the only holder of the lab's issued tokens. */
export class TokenRegistry {
  /** Claims by the SHA-256 of the token: the registry never keeps a usable token. */
  private readonly issued = new Map<string, Claims>();
  private readonly store: ObjectStore;
  private readonly now: () => Date;

  constructor(opts: TokenRegistryOptions) {
    this.store = opts.store;
    this.now = opts.now ?? (() => new Date());
  }

  /** TokenRequest for service account `namespace/name`; throws the ApiError kube-apiserver would answer with. */
  request(namespace: string, name: string, body: unknown): TokenRequest {
    const draft = checkShape(TOKEN_REQUEST, body);
    for (const [field, want] of [['name', name], ['namespace', namespace]] as const) {
      const got = draft.metadata[field];
      if (got !== undefined && got !== '' && got !== want) {
        throw invalid(name, `metadata.${field}: Invalid value: ${JSON.stringify(got)}: must match the service account ${field} if specified`);
      }
    }
    const sa = this.store.get('serviceaccounts', namespace, name);
    const spec = objectField(draft.spec, 'spec');
    const requested = stringList(spec.audiences, 'spec.audiences');
    const audiences = requested.length > 0 ? requested : [API_AUDIENCE];
    const expirationSeconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
    if (typeof expirationSeconds !== 'number' || !Number.isInteger(expirationSeconds)) {
      throw new ApiError('BadRequest', `spec.expirationSeconds must be an integer number of seconds, got ${JSON.stringify(expirationSeconds)}`);
    }
    if (expirationSeconds < MIN_EXPIRATION_SECONDS) throw invalid(name, `spec.expirationSeconds: Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`);
    if (expirationSeconds > MAX_EXPIRATION_SECONDS) throw invalid(name, `spec.expirationSeconds: Invalid value: ${expirationSeconds}: may not specify a duration larger than 2^32 seconds`);

    const ref = spec.boundObjectRef === undefined ? undefined : boundObjectRef(spec.boundObjectRef);
    const binding = ref && this.bindPod(namespace, name, ref);

    const now = this.now();
    this.forgetExpired(now.getTime());
    const token = randomBytes(32).toString('base64url');
    const claims: Claims = {
      namespace,
      serviceAccount: { name, uid: sa.metadata.uid ?? '' },
      audiences,
      expires: now.getTime() + expirationSeconds * 1000,
      id: randomUUID(),
      ...binding,
    };
    this.issued.set(digest(token), claims);
    log.debug({ serviceAccount: `${namespace}/${name}`, pod: claims.pod?.name, audiences, expirationSeconds }, 'issued service account token');
    return {
      apiVersion: API_VERSION,
      kind: 'TokenRequest',
      metadata: { name, namespace, creationTimestamp: timestamp(now) },
      spec: { audiences, expirationSeconds, ...(ref ? { boundObjectRef: ref } : {}) },
      status: { token, expirationTimestamp: timestamp(new Date(claims.expires)) },
    };
  }

  /** TokenReview: an unknown, expired, wrong-audience or invalidated token is a review with `error`, not a throw. */
  review(body: unknown): TokenReview {
    const draft = checkShape(TOKEN_REVIEW, body);
    const spec = objectField(draft.spec, 'spec');
    if (typeof spec.token !== 'string' || spec.token === '') throw new ApiError('BadRequest', 'token is required for TokenReview in authentication');
    const requested = stringList(spec.audiences, 'spec.audiences');
    const status = this.check(spec.token, requested.length > 0 ? requested : [API_AUDIENCE]);
    if ('error' in status) log.debug({ error: status.error }, 'token review refused');
    return {
      apiVersion: API_VERSION,
      kind: 'TokenReview',
      metadata: draft.metadata,
      spec: { token: spec.token, ...(requested.length > 0 ? { audiences: requested } : {}) },
      status,
    };
  }

  /**
   * The bearer-token authenticator of a request to the API server itself: the token must be
   * for the API server's audience (a token minted for the controller's audience is not), live,
   * and its service account and bound pod must still exist.
   */
  authenticate(token: string): { ok: true; user: UserInfo } | { ok: false; error: string } {
    const status = this.check(token, [API_AUDIENCE]);
    return 'error' in status ? { ok: false, error: status.error } : { ok: true, user: status.user };
  }

  /** The checks of kube-apiserver's service account authenticator, in its order. */
  private check(token: string, requested: readonly string[]): TokenReviewStatus {
    const now = this.now().getTime();
    this.forgetExpired(now);
    const claims = this.issued.get(digest(token));
    if (!claims) return refused();
    const audiences = claims.audiences.filter((a) => requested.includes(a));
    if (audiences.length === 0) return refused(`token audiences ${goQuoted(claims.audiences)} is invalid for the target audiences ${goQuoted(requested)}`);
    if (now >= claims.expires) return refused('service account token has expired');
    const { namespace, serviceAccount, pod } = claims;
    const sa = this.store.tryGet('serviceaccounts', namespace, serviceAccount.name);
    if (!sa) return refused(`serviceaccounts "${serviceAccount.name}" not found`);
    if (sa.metadata.uid !== serviceAccount.uid) return refused(`service account UID (${sa.metadata.uid}) does not match claim (${serviceAccount.uid})`);
    if (pod) {
      const current = this.store.tryGet('pods', namespace, pod.name);
      if (!current) return refused('service account token has been invalidated');
      if (current.metadata.uid !== pod.uid) return refused(`pod UID (${current.metadata.uid}) does not match service account pod ref claim (${pod.uid})`);
    }
    return { authenticated: true, user: userInfo(claims), audiences };
  }

  /** Checks a Pod binding as kube-apiserver does and captures the claims it adds. */
  private bindPod(namespace: string, serviceAccount: string, ref: BoundObjectReference): Pick<Claims, 'pod' | 'node'> {
    const pod = this.store.get('pods', namespace, ref.name);
    const podSpec = isPlainObject(pod.spec) ? pod.spec : {};
    const runsAs = podServiceAccount(podSpec);
    if (runsAs !== serviceAccount) {
      throw new ApiError('BadRequest', `cannot bind token for serviceaccount ${JSON.stringify(serviceAccount)} to pod running with serviceaccount ${JSON.stringify(runsAs)}`);
    }
    const uid = pod.metadata.uid ?? '';
    if (ref.uid !== undefined && ref.uid !== uid) {
      throw new ApiError(
        'Conflict',
        `Operation cannot be fulfilled on Pod ${JSON.stringify(ref.name)}: the UID in the bound object reference (${ref.uid}) does not match the UID in record (${uid}). The object might have been deleted and then recreated`,
        { name: ref.name, group: '', kind: 'Pod' },
      );
    }
    const nodeName = typeof podSpec.nodeName === 'string' && podSpec.nodeName !== '' ? podSpec.nodeName : undefined;
    if (nodeName === undefined) return { pod: { name: ref.name, uid } };
    const nodeUid = this.store.tryGet('nodes', undefined, nodeName)?.metadata.uid;
    return { pod: { name: ref.name, uid }, node: { name: nodeName, ...(nodeUid ? { uid: nodeUid } : {}) } };
  }

  private forgetExpired(now: number): void {
    for (const [key, claims] of this.issued) if (claims.expires + EXPIRED_RETENTION_MS <= now) this.issued.delete(key);
  }
}

function userInfo(c: Claims): UserInfo {
  const extra: Record<string, string[]> = {};
  if (c.pod) {
    extra[EXTRA_POD_NAME] = [c.pod.name];
    extra[EXTRA_POD_UID] = [c.pod.uid];
  }
  extra[EXTRA_CREDENTIAL_ID] = [`JTI=${c.id}`];
  if (c.node) {
    extra[EXTRA_NODE_NAME] = [c.node.name];
    if (c.node.uid) extra[EXTRA_NODE_UID] = [c.node.uid];
  }
  return {
    username: `system:serviceaccount:${c.namespace}:${c.serviceAccount.name}`,
    uid: c.serviceAccount.uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${c.namespace}`, 'system:authenticated'],
    extra,
  };
}

function refused(reason?: string): TokenReviewStatus {
  return { user: {}, error: reason === undefined ? INVALID : `[${INVALID}, ${reason}]` };
}

/** The service account a pod runs as; Kubernetes' admission fills in `default` when the spec names none. */
function podServiceAccount(spec: Record<string, unknown>): string {
  const named = spec.serviceAccountName || spec.serviceAccount;
  return typeof named === 'string' ? named : 'default';
}

function boundObjectRef(v: unknown): BoundObjectReference {
  if (!isPlainObject(v)) throw new ApiError('BadRequest', 'spec.boundObjectRef must be an object');
  const { kind, apiVersion, name, uid } = v;
  if (typeof kind !== 'string' || (apiVersion !== undefined && typeof apiVersion !== 'string') || (uid !== undefined && typeof uid !== 'string')) {
    throw new ApiError('BadRequest', 'spec.boundObjectRef.kind, apiVersion and uid must be strings');
  }
  if (kind !== 'Pod' || (apiVersion !== undefined && apiVersion !== '' && apiVersion !== 'v1')) {
    throw new ApiError('BadRequest', `cannot bind token to object of type ${apiVersion || 'v1'}, Kind=${kind}; the lab binds tokens to Pods only`);
  }
  if (typeof name !== 'string' || name === '') throw new ApiError('BadRequest', 'spec.boundObjectRef.name is required');
  return { kind, ...(apiVersion ? { apiVersion } : {}), name, ...(uid ? { uid } : {}) };
}

function objectField(v: unknown, path: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (!isPlainObject(v)) throw new ApiError('BadRequest', `${path} must be an object`);
  return v;
}

function stringList(v: unknown, path: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ApiError('BadRequest', `${path} must be a list of strings`);
  return v;
}

function invalid(name: string, cause: string): ApiError {
  return new ApiError('Invalid', `TokenRequest.${AUTHENTICATION_GROUP} ${JSON.stringify(name)} is invalid: ${cause}`, { name, group: AUTHENTICATION_GROUP, kind: 'TokenRequest' });
}

/** A list as Go's `%q` prints it (`["a" "b"]`), as upstream's audience error does. */
function goQuoted(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
