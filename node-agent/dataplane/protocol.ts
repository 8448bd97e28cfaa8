import type { ResourceType } from '../../lib/xds/index.js';
import type { AgentConfig } from '../config.js';
import type { CertMaterial } from './certs.js';

/**
 * Messages between the agent's main thread (the control side: the one owner
 * of state, certificates and kernel state) and its data-path workers. A
 * worker holds a read-only replica of the state, built from the same updates
 * the main thread applied, in the same order.
 */

export interface WorkerData {
  cfg: Readonly<AgentConfig>;
  /** 0..N-1, for logs. */
  index: number;
  /** The load balancer's cursors and open counts, one buffer for all workers (proxy/balancer-state.ts). */
  balancer: SharedArrayBuffer;
  /** The main thread attached the same-node fast path: join same-node connections through its pinned maps. */
  fastPath: boolean;
}

export type ToWorker =
  /** An update the main thread applied (already validated there). */
  | { kind: 'update'; type: ResourceType; upserts: unknown[]; removals: string[] }
  /** The config is complete: start listening. */
  | { kind: 'complete' }
  | { kind: 'cert'; identity: string; material: CertMaterial | undefined }
  | { kind: 'cert-refused'; identity: string; message: string }
  | { kind: 'query'; id: number; what: 'metrics' | 'stats' }
  /** Stop accepting, let open connections finish for up to `ms`, then exit. */
  | { kind: 'drain'; ms: number };

export type FromWorker =
  | { kind: 'listening' }
  | { kind: 'need-cert'; identity: string }
  | { kind: 'answer'; id: number; value: unknown }
  | { kind: 'drained'; open: number };
