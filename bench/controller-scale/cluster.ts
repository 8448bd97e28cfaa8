/**
 * The benchmark's cluster process: the lab's object store and API server
 * (what the controller's informers read) and the writer of every change.
 * Change times are taken on the clock all the benchmark's processes share
 * (ipc.ts `clock`).
 */
import { CONTROLLER_NAMESPACE, LAB_TOKEN, publishedBundle } from '../../controller/fixtures.js';
import { ObjectStore, startApiServer, type ApiServer } from '../../lab/apiserver/index.js';
import { clock, cpuSeconds, serve } from './ipc.js';
import { Cluster, agentToken, nodeName, type Shape } from './shape.js';

const store = new ObjectStore({ historySize: 100_000 });
let api: ApiServer | undefined;
let cluster: Cluster | undefined;

serve({
  start: async (shape: Shape) => {
    cluster = new Cluster(store, shape);
    cluster.populate();
    api = await startApiServer({ store, host: '127.0.0.1', port: 0, token: LAB_TOKEN });
    return { apiUrl: api.url, token: LAB_TOKEN, tokens: Object.fromEntries(Array.from({ length: shape.nodes }, (_, i) => [nodeName(i), agentToken(nodeName(i))])) };
  },
  /** The trust bundle the controller published, as a node would mount it. */
  bundle: () => {
    const pem = publishedBundle(store);
    if (!pem) throw new Error(`the controller has not published its trust bundle to ${CONTROLLER_NAMESPACE}/ambit-root-ca yet`);
    return pem;
  },
  change: () => {
    const t0 = clock();
    const c = cluster!.change();
    return { ...c, t0 };
  },
  cpuSeconds,
  stop: async () => {
    await api?.close();
    setImmediate(() => process.exit(0));
  },
});
