/**
 * A data-path worker thread of the node agent (see pool.ts for the other
 * side). It keeps a read-only replica of the mesh state, fed by the updates
 * the main thread applied, and starts listening only once the config is
 * complete: a worker never serves on a partial view.
 */
import { workerData } from 'node:worker_threads';
import { logger } from '../../lib/log.js';
import { AgentMetrics } from '../admin/metrics.js';
import { openOriginalDst } from '../bpf/loader.js';
import { sharedBalancerState } from '../proxy/balancer-state.js';
import { MeshState } from '../state/mesh-state.js';
import { openFastPath, userSpace } from '../fastpath/index.js';
import { CertCache } from './certs.js';
import { startDataPlane, type DataPlane } from './dataplane.js';
import type { WorkerData } from './protocol.js';
import { runWorkerLoop, toMain } from './worker-loop.js';

const { cfg, index, balancer, fastPath: fastPathOn } = workerData as WorkerData;
const log = logger('node-agent', `worker-${index}`);

const state = new MeshState();
const certs = new CertCache((identity) => toMain({ kind: 'need-cert', identity }));
const metrics = new AgentMetrics();
const originalDst = openOriginalDst(cfg.bpfPinDir);
const fastPath = fastPathOn ? openFastPath({ pinDir: cfg.bpfPinDir, log: logger('node-agent', 'fastpath') }) : userSpace(log, 'the main thread did not attach it (see its log)');

runWorkerLoop<DataPlane>({
  state,
  certs,
  serve: () => startDataPlane({ cfg, state, certs, originalDst, fastPath, metrics, balancer: sharedBalancerState(balancer), log }),
  drain: async (plane, ms) => {
    const cut = plane ? await plane.drain(ms) : 0;
    originalDst.close();
    fastPath.close();
    return cut;
  },
  registry: metrics.registry,
  index,
  stats: (plane) => ({ open: plane?.open() ?? 0, fastPath: fastPath.status(), ...(plane?.stats() as object | undefined) }),
  what: 'data path',
  log,
});
