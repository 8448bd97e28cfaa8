import { intToIpv4, ipv4ToInt } from '../lib/crds/index.js';
import { AmbitError } from '../lib/errors.js';

/**
 * The lab's address plan, pure and deterministic:
 *
 * | what               | addresses                                  |
 * |--------------------|--------------------------------------------|
 * | node i pod CIDR    | 10.244.(i+1).0/24, gateway 10.244.(i+1).1  |
 * | pod IPs on node i  | 10.244.(i+1).2 – .254                      |
 * | Service ClusterIPs | 10.96.0.0/16, allocated from 10.96.0.10    |
 * | node i fabric IP   | 10.200.0.(i+10)                            |
 *
 * Allocation is next-fit: each pool hands out the lowest free address after
 * the last one it handed out, wrapping at the end. Released addresses are
 * reused, but only after the rest of the range, so a pod that replaces a
 * deleted one does not inherit its IP while agents may still hold state for
 * the old pod. The same sequence of calls always yields the same addresses.
 */

/** Node indexes 0..244: the fabric address 10.200.0.(i+10) must stay below .255. */
export const MAX_NODES = 245;
export const CLUSTER_IP_CIDR = '10.96.0.0/16';
export const FIRST_CLUSTER_IP = '10.96.0.10';

const CLUSTER_NET = ipv4ToInt('10.96.0.0')!;
const CLUSTER_FIRST = CLUSTER_NET + 1; // .0.0 is the network address
const CLUSTER_LAST = CLUSTER_NET + 65534; // .255.255 is broadcast
const CLUSTER_START = ipv4ToInt(FIRST_CLUSTER_IP)!;

function checkNode(i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= MAX_NODES) {
    throw new AmbitError('AMBIT_ERR_LAB_SETUP', `node index ${i} is out of range: the lab supports nodes 0..${MAX_NODES - 1}`);
  }
}

/** `10.244.(i+1).0/24`. */
export function nodePodCidr(i: number): string {
  checkNode(i);
  return `10.244.${i + 1}.0/24`;
}

/** `10.244.(i+1).1`: the node end of every pod's link on node i, and the pods' default route. */
export function nodePodGateway(i: number): string {
  checkNode(i);
  return `10.244.${i + 1}.1`;
}

/** `10.200.0.(i+10)`: node i's address on the fabric that joins the nodes. */
export function nodeFabricIp(i: number): string {
  checkNode(i);
  return `10.200.0.${i + 10}`;
}

/** Why `ip` cannot be a Service's ClusterIP, or undefined when it can (if free). */
export function clusterIpProblem(ip: string): string | undefined {
  const n = ipv4ToInt(ip);
  if (n === undefined) return `must be an IPv4 address (got ${JSON.stringify(ip)})`;
  if (n < CLUSTER_FIRST || n > CLUSTER_LAST) return `${ip} is outside the lab's Service range ${CLUSTER_IP_CIDR}`;
  return undefined;
}

/** One contiguous range of addresses with next-fit allocation. */
class Pool {
  private readonly owners = new Map<number, string>();
  private readonly byOwner = new Map<string, number>();
  private cursor: number;

  constructor(
    readonly label: string,
    private readonly first: number,
    private readonly last: number,
    start = first,
  ) {
    this.cursor = start;
  }

  contains(n: number): boolean {
    return n >= this.first && n <= this.last;
  }

  ownerOf(n: number): string | undefined {
    return this.owners.get(n);
  }

  addressOf(owner: string): number | undefined {
    return this.byOwner.get(owner);
  }

  get size(): number {
    return this.owners.size;
  }

  /** Idempotent per owner: asking again returns the address the owner already holds. */
  allocate(owner: string, requested?: number): number {
    const held = this.byOwner.get(owner);
    if (requested !== undefined) {
      if (held === requested) return held;
      if (held !== undefined) {
        throw new AmbitError('AMBIT_ERR_MANIFEST', `${owner} asks for ${intToIpv4(requested)} but already holds ${intToIpv4(held)}`);
      }
      const other = this.owners.get(requested);
      if (other !== undefined) {
        throw new AmbitError('AMBIT_ERR_MANIFEST', `${owner} asks for ${intToIpv4(requested)}, which is already allocated to ${other}`);
      }
      this.take(owner, requested);
      return requested;
    }
    if (held !== undefined) return held;
    const span = this.last - this.first + 1;
    for (let step = 0; step < span; step++) {
      const n = this.first + ((this.cursor - this.first + step) % span);
      if (!this.owners.has(n)) {
        this.take(owner, n);
        this.cursor = n === this.last ? this.first : n + 1;
        return n;
      }
    }
    throw new AmbitError(
      'AMBIT_ERR_LAB_SETUP',
      `no free address for ${owner}: ${this.label} is exhausted (${span} of ${span} in use); delete some objects or add nodes`,
    );
  }

  release(n: number): boolean {
    const owner = this.owners.get(n);
    if (owner === undefined) return false;
    this.owners.delete(n);
    this.byOwner.delete(owner);
    return true;
  }

  entries(): [string, string][] {
    return [...this.owners].sort((a, b) => a[0] - b[0]).map(([n, owner]) => [intToIpv4(n), owner]);
  }

  private take(owner: string, n: number): void {
    this.owners.set(n, owner);
    this.byOwner.set(owner, n);
  }
}

/**
 * Address state of one lab. Owners are free-form descriptions used in error
 * messages and for idempotence, e.g. `Pod default/web-7d4b9c8f54-x2k9p` or
 * `Service default/web`.
 */
export class Ipam {
  private readonly podPools = new Map<number, Pool>();
  private readonly clusterPool = new Pool(`the Service range ${CLUSTER_IP_CIDR}`, CLUSTER_FIRST, CLUSTER_LAST, CLUSTER_START);

  private podPool(nodeIndex: number): Pool {
    checkNode(nodeIndex);
    let pool = this.podPools.get(nodeIndex);
    if (!pool) {
      const base = ipv4ToInt(`10.244.${nodeIndex + 1}.0`)!;
      pool = new Pool(`the pod range ${nodePodCidr(nodeIndex)} of node ${nodeIndex}`, base + 2, base + 254);
      this.podPools.set(nodeIndex, pool);
    }
    return pool;
  }

  /**
   * A pod IP on node `nodeIndex`. `requested` restores a known allocation (the
   * lab reloading its state); it must lie in the node's pod range.
   */
  allocatePodIp(nodeIndex: number, owner: string, requested?: string): string {
    const pool = this.podPool(nodeIndex);
    let want: number | undefined;
    if (requested !== undefined) {
      want = ipv4ToInt(requested);
      if (want === undefined || !pool.contains(want)) {
        throw new AmbitError('AMBIT_ERR_MANIFEST', `${owner} asks for pod IP ${JSON.stringify(requested)}, which is not in ${pool.label} (.2 to .254)`);
      }
    }
    return intToIpv4(pool.allocate(owner, want));
  }

  /** Frees a pod IP; false when it was not allocated. */
  releasePodIp(ip: string): boolean {
    const n = ipv4ToInt(ip);
    if (n === undefined) return false;
    for (const pool of this.podPools.values()) if (pool.contains(n)) return pool.release(n);
    return false;
  }

  /**
   * A ClusterIP for a Service. A requested address (the Service's
   * `spec.clusterIP`) is honoured when it is in 10.96.0.0/16 and free;
   * otherwise the error says which Service holds it or why it is unusable.
   */
  allocateClusterIp(owner: string, requested?: string): string {
    if (requested === undefined || requested === '') return intToIpv4(this.clusterPool.allocate(owner));
    const problem = clusterIpProblem(requested);
    if (problem) throw new AmbitError('AMBIT_ERR_MANIFEST', `${owner}: spec.clusterIP ${problem}`);
    return intToIpv4(this.clusterPool.allocate(owner, ipv4ToInt(requested)!));
  }

  releaseClusterIp(ip: string): boolean {
    const n = ipv4ToInt(ip);
    return n !== undefined && this.clusterPool.release(n);
  }

  /** Who holds `ip` (pod or ClusterIP), if anyone. */
  ownerOf(ip: string): string | undefined {
    const n = ipv4ToInt(ip);
    if (n === undefined) return undefined;
    if (this.clusterPool.contains(n)) return this.clusterPool.ownerOf(n);
    for (const pool of this.podPools.values()) if (pool.contains(n)) return pool.ownerOf(n);
    return undefined;
  }

  /** Every allocation, sorted by address: for `lab status` and for saving the lab's state. */
  snapshot(): { podIps: Record<string, string>; clusterIps: Record<string, string> } {
    const podIps: Record<string, string> = {};
    for (const i of [...this.podPools.keys()].sort((a, b) => a - b)) {
      for (const [ip, owner] of this.podPools.get(i)!.entries()) podIps[ip] = owner;
    }
    return { podIps, clusterIps: Object.fromEntries(this.clusterPool.entries()) };
  }
}
