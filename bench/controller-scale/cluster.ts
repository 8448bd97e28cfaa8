/**
 * The benchmark's cluster process: the lab's object store and API server
 * (what the controller's informers read), the node agents (one gRPC client
 * per node, each authenticating as its node and ACKing what it gets), and the
 * writer of every change. Change times and ACK times are both taken here, on
 * one clock (ipc.ts `clock`).
 *
 * The agents keep only names, not resources: what is measured is the
 * controller, and 100 full copies of the mesh would only slow this process.
 * (Bytes are counted by the controller, ambit_xds_sent_bytes_total.)
 */
import { CONTROLLER_NAMESPACE, LAB_TOKEN, agentChannel, publishedBundle } from '../../controller/fixtures.js';
import { ObjectStore, startApiServer, type ApiServer } from '../../lab/apiserver/index.js';
import { createTrustBundle } from '../../lib/identity/index.js';
import { RESOURCE_TYPES, connectMeshConfig, resourceName, type MeshConfigConnection, type ResourceType } from '../../lib/xds/index.js';
import { clock, serve } from './ipc.js';
import { Cluster, nodeName, type Shape } from './shape.js';

/** An ACKed message: when the agent finished applying it (the ACK goes out right after). */
interface Received {
  agent: number;
  at: number;
}

interface Agent {
  conn: MeshConfigConnection;
  names: Record<ResourceType, Set<string>>;
}

export const agentToken = (node: string) => `token-${node}`;

const store = new ObjectStore({ historySize: 100_000 });
let api: ApiServer | undefined;
let cluster: Cluster | undefined;
let agents: Agent[] = [];
let received: Received[] = [];

function startAgents(address: string): Agent[] {
  const pem = publishedBundle(store);
  if (!pem) throw new Error(`the controller has not published its trust bundle to ${CONTROLLER_NAMESPACE}/ambit-root-ca yet`);
  const bundle = createTrustBundle('cluster.local', pem);
  if (!bundle.ok) throw bundle.error;
  return Array.from({ length: cluster!.shape.nodes }, (_, i) => {
    const node = nodeName(i);
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
        received.push({ agent: i, at: clock() });
        return { ok: true };
      },
    });
    return { conn, names };
  });
}

async function stopAgents(): Promise<void> {
  await Promise.all(agents.map((a) => a.conn.stop()));
  agents = [];
}

/** What the agents received since `since`: the last ACK, the messages, and how many agents got any. */
function report(since: number) {
  const mine = received.filter((r) => r.at >= since);
  received = [];
  return { lastAckAt: mine.reduce((m, r) => Math.max(m, r.at), since), messages: mine.length, agents: new Set(mine.map((r) => r.agent)).size };
}

serve({
  start: async (shape: Shape) => {
    cluster = new Cluster(store, shape);
    cluster.populate();
    api = await startApiServer({ store, host: '127.0.0.1', port: 0, token: LAB_TOKEN });
    return { apiUrl: api.url, token: LAB_TOKEN, tokens: Object.fromEntries(Array.from({ length: shape.nodes }, (_, i) => [nodeName(i), agentToken(nodeName(i))])) };
  },
  /** (Re)starts every agent against `address`; resolves once all have applied their first full config. */
  agents: async (address: string) => {
    await stopAgents();
    received = [];
    const t0 = clock();
    agents = startAgents(address);
    await Promise.all(agents.map((a) => a.conn.synced));
    const sync = report(t0);
    const perType = Object.fromEntries(
      RESOURCE_TYPES.map((t) => {
        const sizes = agents.map((a) => a.names[t].size);
        return [t, { min: Math.min(...sizes), max: Math.max(...sizes), mean: sizes.reduce((s, n) => s + n, 0) / sizes.length }];
      }),
    );
    return { ms: sync.lastAckAt - t0, messages: sync.messages, resourcesPerAgent: perType };
  },
  change: () => {
    received = [];
    const t0 = clock();
    const c = cluster!.change();
    return { ...c, t0 };
  },
  report: (since: number) => report(since),
  cpuSeconds: () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  },
  stopAgents: () => stopAgents(),
  stop: async () => {
    await stopAgents();
    await api?.close();
    setImmediate(() => process.exit(0));
  },
});
