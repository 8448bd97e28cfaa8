import { AuthenticationV1Api, type KubeConfig, type V1TokenReviewStatus } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { AmbitError, fail, ok, type Result } from '../../lib/errors.js';
import type { AgentIdentity, Authenticator } from './authenticator.js';

/** Extra claims the API server reports for a pod-bound (projected) service account token. */
export const EXTRA_NODE_NAME = 'authentication.kubernetes.io/node-name';
export const EXTRA_POD_NAME = 'authentication.kubernetes.io/pod-name';
export const EXTRA_POD_UID = 'authentication.kubernetes.io/pod-uid';

/** Asks the API server about a token. */
export interface TokenReviewer {
  review(token: string, audiences: readonly string[]): Promise<V1TokenReviewStatus | undefined>;
}

export function kubeTokenReviewer(kc: KubeConfig): TokenReviewer {
  const api = kc.makeApiClient(AuthenticationV1Api);
  return {
    review: async (token, audiences) => {
      const res = await api.createTokenReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences.length > 0 ? { audiences: [...audiences] } : {}) } },
      });
      return res.status;
    },
  };
}

export interface TokenReviewAuthenticatorOptions {
  reviewer: TokenReviewer;
  /** Where a token's pod binding is checked: the pod's uid, node and `ambit.dev/waypoint` label, from the model. */
  pod: (namespace: string, name: string) => { uid: string; node: string; waypoint?: string } | undefined;
  /** The node agent's service accounts, `namespace/name` (none: node agents authenticate otherwise). */
  serviceAccounts: readonly string[];
  /**
   * Whether a Waypoint `namespace/name` exists. Its proxies run as the service account of
   * that name, in pods labelled `ambit.dev/waypoint=<name>`; a token of that account bound
   * to such a pod authenticates as that waypoint's proxy. Unset: no waypoint authenticates.
   */
  waypoints?: (namespace: string, name: string) => boolean;
  /** Audiences the token must carry; empty: the API server's default. */
  audiences?: readonly string[];
  /** How long a positive review is reused. Default 60 s. */
  cacheTtlMs?: number;
  now?: () => number;
}

const SA_PREFIX = 'system:serviceaccount:';
const authError = (msg: string): Result<never> => fail(new AmbitError('AMBIT_ERR_AGENT_AUTH', msg));

/**
 * Authenticates agents by their service account token (Istio's approach):
 * a TokenReview says whose it is; the service account must be the node
 * agent's, or a Waypoint's with the token bound to one of that waypoint's
 * pods; the node comes from the token's node-name claim (Kubernetes >= 1.30)
 * or from the pod it is bound to, and the two must agree when both are there.
 */
export class TokenReviewAuthenticator implements Authenticator {
  readonly describe: string;
  /** Positive reviews, by token hash; `pod` is the binding, re-checked on every hit. */
  private readonly cache = new Map<string, { identity: AgentIdentity; until: number; pod?: { namespace: string; name: string; uid: string | undefined } }>();
  private readonly allowed: ReadonlySet<string>;

  constructor(private readonly o: TokenReviewAuthenticatorOptions) {
    this.allowed = new Set(o.serviceAccounts);
    const who = [...(o.serviceAccounts.length > 0 ? [`service account(s) ${o.serviceAccounts.join(', ')}`] : []), ...(o.waypoints ? ['waypoint proxies'] : [])];
    this.describe = `TokenReview for ${who.join(' and ') || 'nobody'}`;
  }

  async authenticate(token: string): Promise<Result<AgentIdentity>> {
    const now = (this.o.now ?? Date.now)();
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.cache.get(key);
    // A cached token stays good only while the pod it is bound to does: a deleted agent pod's token must stop working at once.
    if (hit && hit.until > now && (!hit.pod || this.stillBound(hit.pod))) return ok(hit.identity);
    this.cache.delete(key);
    for (const [k, v] of this.cache) if (v.until <= now) this.cache.delete(k);

    let status: V1TokenReviewStatus | undefined;
    try {
      status = await this.o.reviewer.review(token, this.o.audiences ?? []);
    } catch (err) {
      return authError(`TokenReview failed (${err instanceof Error ? err.message : String(err)}); the controller needs RBAC to create tokenreviews.authentication.k8s.io`);
    }
    if (!status?.authenticated) return authError(`the API server rejected the token${status?.error ? `: ${status.error}` : ''}`);
    const audiences = this.o.audiences ?? [];
    if (audiences.length > 0 && !(status.audiences ?? []).some((a) => audiences.includes(a))) {
      return authError(`the token is not for audience ${audiences.join(' or ')}`);
    }
    const username = status.user?.username ?? '';
    if (!username.startsWith(SA_PREFIX)) return authError(`the token belongs to ${JSON.stringify(username)}, not to a service account`);
    const [namespace, sa] = username.slice(SA_PREFIX.length).split(':');
    const agent = namespace !== undefined && sa !== undefined && this.allowed.has(`${namespace}/${sa}`);
    const waypoint = !agent && namespace !== undefined && sa !== undefined && this.o.waypoints?.(namespace, sa) === true;
    if (!namespace || !sa || (!agent && !waypoint)) {
      const allowed = [...(this.allowed.size > 0 ? [[...this.allowed].join(', ')] : []), ...(this.o.waypoints ? ["a Waypoint's"] : [])].join(' or ');
      return authError(`service account ${namespace}/${sa} is neither a node agent's nor a Waypoint's (allowed: ${allowed || 'none'})`);
    }
    const extra = status.user?.extra ?? {};
    const claim = (k: string): string | undefined => extra[k]?.[0];
    const claimedNode = claim(EXTRA_NODE_NAME);
    const podName = claim(EXTRA_POD_NAME);
    let podNode: string | undefined;
    let podWaypoint: string | undefined;
    if (podName) {
      const pod = this.o.pod(namespace, podName);
      if (!pod) return authError(`the token is bound to pod ${namespace}/${podName}, which the controller does not know (deleted, or not synced yet)`);
      const uid = claim(EXTRA_POD_UID);
      if (uid && pod.uid && uid !== pod.uid) return authError(`the token is bound to an earlier pod ${namespace}/${podName} (uid ${uid}); it was deleted and recreated`);
      podNode = pod.node || undefined;
      podWaypoint = pod.waypoint;
    }
    if (claimedNode && podNode && claimedNode !== podNode) return authError(`the token names node ${claimedNode} but its pod ${namespace}/${podName} runs on ${podNode}`);
    const node = claimedNode ?? podNode;
    if (!node) {
      return authError(`the token is not bound to a pod or node; mount a projected service account token (not a legacy Secret token) in the ${waypoint ? 'waypoint' : 'node agent'}`);
    }
    // Any pod may run as a Waypoint's service account; only the waypoint's own pods are its proxies.
    if (waypoint && (!podName || podWaypoint !== sa)) {
      return authError(`service account ${namespace}/${sa} is Waypoint ${namespace}/${sa}'s, but the token is ${podName ? `bound to pod ${namespace}/${podName}, which is not labelled ambit.dev/waypoint=${sa}` : 'not bound to a pod'}`);
    }
    const identity: AgentIdentity = waypoint ? { node, subject: username, waypoint: { namespace, name: sa, pod: podName! } } : { node, subject: username };
    const bound = podName ? { namespace, name: podName, uid: claim(EXTRA_POD_UID) } : undefined;
    this.cache.set(key, { identity, until: now + (this.o.cacheTtlMs ?? 60_000), ...(bound ? { pod: bound } : {}) });
    return ok(identity);
  }

  private stillBound(p: { namespace: string; name: string; uid: string | undefined }): boolean {
    const pod = this.o.pod(p.namespace, p.name);
    return pod !== undefined && (!p.uid || !pod.uid || p.uid === pod.uid);
  }
}
