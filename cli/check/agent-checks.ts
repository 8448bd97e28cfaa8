import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { API_SERVER } from './api-checks.js';
import { notFromChart } from './control-plane-checks.js';
import { apiStatus, CHART } from '../cluster/kube.js';
import type { Check } from './types.js';

const GROUP = 'agents';

/** Long lists in one line are cut here, with a count of the rest. */
const SHOW = 5;
const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const list = (xs: string[]) => (xs.length <= SHOW ? xs.join(', ') : `${xs.slice(0, SHOW).join(', ')} and ${xs.length - SHOW} more`);

const daemonSet: Check = {
  id: 'agent-daemonset',
  group: GROUP,
  scope: 'cluster',
  needs: [API_SERVER],
  run: async (ctx) => {
    const { kc, namespace } = ctx;
    let ds;
    try {
      ds = await kc.makeApiClient(AppsV1Api).readNamespacedDaemonSet({ name: CHART.nodeAgent, namespace });
    } catch (err) {
      if (apiStatus(err) !== 404) throw err;
      return notFromChart(ctx, 'node agents') ?? { status: 'fail', message: `no DaemonSet ${CHART.nodeAgent} in ${namespace}`, hint: `install the chart, or pass -n with the namespace it is in` };
    }
    const desired = ds.status?.desiredNumberScheduled ?? 0;
    const ready = ds.status?.numberReady ?? 0;
    const hint = `kubectl -n ${namespace} describe daemonset/${CHART.nodeAgent}; kubectl -n ${namespace} get pods -l ${CHART.nameLabel}=${CHART.nodeAgent} -o wide`;
    if (desired === 0) return { status: 'fail', message: `DaemonSet ${CHART.nodeAgent} schedules no agent`, hint: `its nodeSelector or the nodes' taints exclude every node (nodeAgent.nodeSelector, nodeAgent.tolerations); ${hint}` };
    if (ready < desired) return { status: 'fail', message: `DaemonSet ${CHART.nodeAgent}: ${ready} of ${desired} agents ready`, hint };
    return { status: 'pass', message: `DaemonSet ${CHART.nodeAgent}: ${ready} of ${desired} agents ready` };
  },
};

const everyNode: Check = {
  id: 'agent-on-every-node',
  group: GROUP,
  scope: 'cluster',
  needs: [API_SERVER],
  run: async ({ kc, mesh, namespace }) => {
    const nodes = (await kc.makeApiClient(CoreV1Api).listNode()).items.map((n) => n.metadata?.name ?? '');
    const agents = await mesh.agents();
    const missing: string[] = [];
    const notReady: string[] = [];
    for (const node of nodes) {
      const here = agents.filter((a) => a.node === node);
      if (here.length === 0) missing.push(node);
      // During a surge rollout two agents share a node; one ready one serves it.
      else if (!here.some((a) => a.ready)) notReady.push(`${node} (${here.map((a) => `${a.name}: ${a.detail ?? 'not ready'}`).join('; ')})`);
    }
    const hint =
      mesh.kind === 'lab'
        ? "ambit lab status lists the agents; ambit lab restart node-agent NODE restarts one"
        : `kubectl -n ${namespace} get pods -l ${CHART.nameLabel}=${CHART.nodeAgent} -o wide; a node without one: check its taints and nodeAgent.nodeSelector`;
    if (missing.length) return { status: 'fail', message: `no agent on ${missing.length} of ${nodes.length} nodes: ${list(missing)}`, hint };
    if (notReady.length) return { status: 'fail', message: `agent not ready on ${list(notReady)}`, hint };
    return { status: 'pass', message: nodes.length === 1 ? 'a ready agent on the only node' : `a ready agent on each of the ${nodes.length} nodes` };
  },
};

/** One entry of the controller's /debug/agents (controller/xds/agent.ts status()). */
interface StreamStatus {
  node?: string;
  proxy?: string;
  upToDate?: boolean;
  types?: Record<string, { ackedVersion?: string | null; nacked?: { version?: string; error?: string } | null }>;
}

const configAcked: Check = {
  id: 'config-acked',
  group: GROUP,
  scope: 'cluster',
  needs: [API_SERVER],
  run: async ({ kc, mesh }) => {
    const controllers = await mesh.controllers();
    const streams: StreamStatus[] = [];
    const unreadable: string[] = [];
    // Each agent streams from one replica: the union over replicas covers them all.
    for (const c of controllers) {
      const r = await c.get('/debug/agents').catch((err: unknown) => ({ status: 0, body: err instanceof Error ? err.message : String(err) }));
      let parsed: unknown;
      try {
        parsed = r.status === 200 ? JSON.parse(r.body) : undefined;
      } catch {
        parsed = undefined;
      }
      if (Array.isArray(parsed)) streams.push(...(parsed as StreamStatus[]));
      else unreadable.push(`${c.name} (${r.status ? `HTTP ${r.status}` : r.body.slice(0, 120)})`);
    }
    if (controllers.length === 0 || unreadable.length === controllers.length) {
      return {
        status: 'warn',
        message: controllers.length === 0 ? 'no running controller to ask which config each agent holds' : `cannot read /debug/agents from ${unreadable.join(', ')}`,
        hint: `read it by hand: ${mesh.byHand('/debug/agents')} (each agent's upToDate and NACKed types)`,
      };
    }
    const nodes = (await kc.makeApiClient(CoreV1Api).listNode()).items.map((n) => n.metadata?.name ?? '');
    const agentStreams = streams.filter((s) => s.proxy === undefined || s.proxy.startsWith('node/'));
    const nacks = streams.flatMap((s) =>
      Object.entries(s.types ?? {})
        .filter(([, t]) => t.nacked)
        .map(([type, t]) => `${s.proxy ?? s.node} rejected ${type} version ${t.nacked!.version ?? '?'}: ${t.nacked!.error ?? ''}`),
    );
    if (nacks.length) {
      return { status: 'fail', message: list(nacks), hint: 'a NACKed proxy keeps its previous config; the error names the resource. Fix or delete it; the controller logs AMBIT_ERR_CONFIG_NACK' };
    }
    const unconnected = nodes.filter((n) => !agentStreams.some((s) => s.node === n));
    if (unconnected.length) {
      return { status: 'fail', message: `no config stream from the agent of ${list(unconnected)}`, hint: 'the agent cannot reach or authenticate to the controller on 15010: its log says which (AMBIT_ERR_AGENT_AUTH, AMBIT_ERR_CONTROLLER_TLS)' };
    }
    const behind = streams.filter((s) => s.upToDate === false).map((s) => s.proxy ?? s.node ?? '?');
    const partial = unreadable.length ? ` (not asked: ${unreadable.join(', ')})` : '';
    if (behind.length) return { status: 'warn', message: `config push in flight to ${list(behind)}${partial}`, hint: 'run the check again in a few seconds; if it stays, the proxy is slow to ACK (its log, /debug/agents inflight)' };
    if (partial) return { status: 'warn', message: `every agent that was asked ACKed the latest config${partial}`, hint: `read it by hand: ${mesh.byHand('/debug/agents')}` };
    const waypoints = streams.length - agentStreams.length;
    const who = `${count(agentStreams.length, 'agent')}${waypoints ? ` and ${count(waypoints, 'waypoint proxy', 'waypoint proxies')}` : ''}`;
    return { status: 'pass', message: `${who} ACKed the latest config` };
  },
};

export const AGENT_CHECKS: readonly Check[] = [daemonSet, everyNode, configAcked];
