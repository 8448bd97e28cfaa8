/**
 * A benchmark process of node agents: one gRPC client per node it is given
 * (lib/xds connectMeshConfig, TLS verified against the published bundle,
 * authenticated as its node), each ACKing what it gets. The orchestrator runs
 * several such processes, so the agents are not all behind one event loop
 * (on real nodes each has its own). ACK times are taken on the clock all the
 * benchmark's processes share (ipc.ts `clock`).
 *
 * The agents keep only names, not resources: what is measured is the
 * controller, and full copies of the mesh per agent would only slow this
 * process down.
 */
import { agentChannel } from '../../controller/fixtures.js';
import { createTrustBundle } from '../../lib/identity/index.js';
import { RESOURCE_TYPES, connectMeshConfig, resourceName, type MeshConfigConnection, type ResourceType } from '../../lib/xds/index.js';
import { clock, cpuSeconds, serve } from './ipc.js';
import { agentToken } from './shape.js';

/** An ACKed message: when the agent finished applying it (the ACK goes out right after). */
interface Received {
  node: string;
  at: number;
}

interface Agent {
  conn: MeshConfigConnection;
  names: Record<ResourceType, Set<string>>;
}

let agents: Agent[] = [];
let received: Received[] = [];

async function stopAgents(): Promise<void> {
  await Promise.all(agents.map((a) => a.conn.stop()));
  agents = [];
}

/** What the agents received since `since`: the last ACK, the messages, and which agents got any. */
function report(since: number) {
  const mine = received.filter((r) => r.at >= since);
  received = [];
  return { lastAckAt: mine.reduce((m, r) => Math.max(m, r.at), since), messages: mine.length, nodes: [...new Set(mine.map((r) => r.node))] };
}

serve({
  /** (Re)starts one agent per node against `address`; resolves once all have applied their first full config. */
  start: async ({ address, nodes, bundlePem }: { address: string; nodes: string[]; bundlePem: string }) => {
    await stopAgents();
    const bundle = createTrustBundle('cluster.local', bundlePem);
    if (!bundle.ok) throw bundle.error;
    received = [];
    const t0 = clock();
    agents = nodes.map((node) => {
      const names = Object.fromEntries(RESOURCE_TYPES.map((t) => [t, new Set<string>()])) as Agent['names'];
      const channel = agentChannel(bundle.value);
      // One connection per agent, as on real nodes (grpc-js would otherwise share equal subchannels).
      channel.options = { ...channel.options, 'grpc.use_local_subchannel_pool': 1 };
      const conn = connectMeshConfig({
        address,
        channel,
        token: agentToken(node),
        nodeName: node,
        agentVersion: 'bench',
        backoff: { next: () => 200, reset: () => undefined },
        onUpdate: (type, upserts, removals) => {
          for (const n of removals) names[type].delete(n);
          for (const r of upserts) names[type].add(resourceName(type, r as never));
          received.push({ node, at: clock() });
          return { ok: true };
        },
      });
      return { conn, names };
    });
    await Promise.all(agents.map((a) => a.conn.synced));
    const sync = report(t0);
    /** Per type, how many resources each agent holds. */
    const sizes = Object.fromEntries(RESOURCE_TYPES.map((t) => [t, agents.map((a) => a.names[t].size)]));
    return { lastAckAt: sync.lastAckAt, messages: sync.messages, sizes };
  },
  report: (since: number) => report(since),
  cpuSeconds,
  stopAgents: () => stopAgents(),
  stop: async () => {
    await stopAgents();
    setImmediate(() => process.exit(0));
  },
});
