import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { fail, ok, type Result } from '../../lib/errors.js';
import type { RouteView } from './views.js';

/**
 * The dashboard's one write: new weights for the backends of one HTTPRoute
 * rule (a canary slider). The controller does not write it itself: it builds
 * a JSON patch and sends it to the API server with the bearer token the
 * operator's browser sent, and with nothing of its own (no token, no client
 * certificate), so the API server authenticates and authorizes the operator
 * as for kubectl. Without a token there is no write at all.
 */

/** Gateway API's bounds on a backendRef weight. */
export const MAX_WEIGHT = 1_000_000;

export interface WeightChange {
  rule: number;
  weights: { name: string; weight: number }[];
}

/** Checks a request body against the route as the controller last saw it. */
export function parseWeightChange(body: unknown, route: RouteView): Result<WeightChange, string> {
  const b = body as { rule?: unknown; weights?: unknown } | null;
  if (typeof b !== 'object' || b === null) return fail('the body must be a JSON object {rule, weights: [{name, weight}]}');
  const rule = route.rules.find((r) => r.index === b.rule);
  if (!rule) return fail(`rule ${JSON.stringify(b.rule)} does not exist in ${route.kind} ${route.namespace}/${route.name} (it has ${route.rules.length})`);
  if (!Array.isArray(b.weights)) return fail('weights must be a list of {name, weight}, one per backend of the rule, in order');
  if (b.weights.length !== rule.backends.length || rule.backends.length < 2) {
    return fail(`rule ${rule.index} has ${rule.backends.length} backends (${rule.backends.map((x) => x.name).join(', ')}); weights must name each of them, in order, and there must be two or more to shift between`);
  }
  const weights: WeightChange['weights'] = [];
  for (const [i, w] of (b.weights as { name?: unknown; weight?: unknown }[]).entries()) {
    if (w?.name !== rule.backends[i]!.name) return fail(`weights[${i}] names ${JSON.stringify(w?.name)}, but backend ${i} of rule ${rule.index} is ${rule.backends[i]!.name}; reload the page`);
    if (typeof w.weight !== 'number' || !Number.isInteger(w.weight) || w.weight < 0 || w.weight > MAX_WEIGHT) return fail(`weights[${i}].weight must be an integer 0..${MAX_WEIGHT}`);
    weights.push({ name: w.name, weight: w.weight });
  }
  if (weights.every((w) => w.weight === 0)) return fail('at least one backend needs a weight above 0 (all zero would answer every request with 500)');
  return ok({ rule: rule.index, weights });
}

/**
 * RFC 6902: each backend's name is tested first, so a route edited since the
 * page was drawn (backends reordered or replaced) is refused by the API
 * server rather than given weights meant for other backends.
 */
export function weightPatch(change: WeightChange): unknown[] {
  const at = (j: number) => `/spec/rules/${change.rule}/backendRefs/${j}`;
  return [...change.weights.map((w, j) => ({ op: 'test', path: `${at(j)}/name`, value: w.name })), ...change.weights.map((w, j) => ({ op: 'add', path: `${at(j)}/weight`, value: w.weight }))];
}

export interface ForwardResult {
  status: number;
  body: unknown;
}

/** Where the API server is and how to trust it: from the controller's kubeconfig, without its credentials. */
export interface ApiServerTarget {
  server: string;
  ca: Buffer | undefined;
  skipTlsVerify: boolean;
}

export function apiServerTarget(kc: KubeConfig): ApiServerTarget | undefined {
  const c = kc.getCurrentCluster();
  if (!c) return undefined;
  const ca = c.caData ? Buffer.from(c.caData, 'base64') : c.caFile ? readFileSync(c.caFile) : undefined;
  return { server: c.server, ca, skipTlsVerify: c.skipTLSVerify };
}

/** PATCHes an HTTPRoute as the holder of `token`; the API server's answer is returned as it is. */
export function forwardRoutePatch(target: ApiServerTarget, token: string, namespace: string, name: string, patch: unknown[], timeoutMs = 10_000): Promise<ForwardResult> {
  const url = new URL(`/apis/gateway.networking.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/httproutes/${encodeURIComponent(name)}?fieldManager=ambit-dashboard`, target.server);
  const body = JSON.stringify(patch);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json-patch+json', accept: 'application/json', 'content-length': Buffer.byteLength(body) };
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: pass the text on
        }
        resolve({ status: res.statusCode ?? 502, body: parsed });
      });
      res.on('error', reject);
    };
    const req =
      url.protocol === 'https:'
        ? https.request(url, { method: 'PATCH', headers, ...(target.ca ? { ca: target.ca } : {}), rejectUnauthorized: !target.skipTlsVerify, timeout: timeoutMs }, onResponse)
        : http.request(url, { method: 'PATCH', headers, timeout: timeoutMs }, onResponse);
    req.on('timeout', () => req.destroy(new Error(`the API server at ${target.server} did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
