import { ApiException } from '@kubernetes/client-node';
import { DEFAULTS, PORTS } from '../../controller/config.js';
import { WAYPOINT_POD_LABEL } from '../../controller/model/index.js';
import { PORTS as AGENT_PORTS } from '../../node-agent/config.js';

/** The names the chart gives the mesh's own objects (charts/ambit/templates/_helpers.tpl). */
export const CHART = Object.freeze({
  namespace: DEFAULTS.namespace,
  controller: 'ambit-controller',
  nodeAgent: 'ambit-node-agent',
  /** The selectors of the controller Deployment and the agent DaemonSet name the component only. */
  nameLabel: 'app.kubernetes.io/name',
  adminPort: PORTS.admin,
  /** The admin port of node agents and waypoint proxies (SPEC, Ports). */
  proxyAdminPort: AGENT_PORTS.admin,
  /** The label the controller puts on each Waypoint's pods (`ambit.dev/waypoint=<name>`). */
  waypointLabel: WAYPOINT_POD_LABEL,
});

/** HTTP status of a failed API call, if it got an answer at all. */
export function apiStatus(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

/**
 * One line for a failed API call: the API server's own message when it
 * answered (a Status object), else the connection error and its errno code.
 */
export function describeError(err: unknown): string {
  if (err instanceof ApiException) {
    const body = parseMaybe(err.body) as { message?: string } | string | undefined;
    const msg = typeof body === 'object' && body?.message ? body.message : typeof body === 'string' && body ? body.trim().slice(0, 200) : '';
    return `HTTP ${err.code}${msg ? `: ${msg}` : ''}`;
  }
  if (err instanceof Error) {
    const code = (err as { code?: string }).code ?? ((err as { cause?: { code?: string } }).cause?.code);
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

/** Generated clients hand back a body as a string or already parsed, by content type. */
export function parseMaybe(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

export function condition(obj: { status?: { conditions?: Condition[] } } | undefined, type: string): Condition | undefined {
  return obj?.status?.conditions?.find((c) => c.type === type);
}
