import { shortHash, type LabPaths } from './paths.js';
import { addNetns, addVeth, deleteNetns, ipIn, sysctlIn } from './host/netns.js';
import { CLUSTER_IP_CIDR } from './ipam.js';

/**
 * The lab's network: a fabric namespace with a bridge that joins the node
 * namespaces (a routed layer-3 fabric between pod CIDRs), and pods wired to
 * their node by veth, Calico style: the pod has a /32 and a default route to
 * the node's pod gateway; the node has a /32 route per pod. Every address
 * lives inside namespaces this module creates.
 */

export const FABRIC_BRIDGE = 'br0';
export const FABRIC_GATEWAY = '10.200.0.1';
export const FABRIC_PREFIX = 24;
export const API_PORT = 6443;

export interface NodeNet {
  name: string;
  netns: string;
  /** Address on the fabric. */
  ip: string;
  podCIDR: string;
  /** The pods' default gateway, held by the node (on lo, so it exists before any pod). */
  podGateway: string;
}

/** The fabric's bridge, in the fabric namespace (which the CLI creates so the supervisor can start inside it). */
export async function createFabric(paths: LabPaths): Promise<void> {
  const ns = paths.fabricNetns;
  await ipIn(ns, 'link', 'add', FABRIC_BRIDGE, 'type', 'bridge');
  await ipIn(ns, 'addr', 'add', `${FABRIC_GATEWAY}/${FABRIC_PREFIX}`, 'dev', FABRIC_BRIDGE);
  await ipIn(ns, 'link', 'set', FABRIC_BRIDGE, 'up');
}

export async function createNode(paths: LabPaths, node: NodeNet, peers: NodeNet[]): Promise<void> {
  await addNetns(node.netns);
  await addVeth(
    { netns: paths.fabricNetns, name: `f-${node.name}`.slice(0, 15) },
    { netns: node.netns, name: 'eth0' },
    `an${shortHash(node.netns, 8)}`,
  );
  await ipIn(paths.fabricNetns, 'link', 'set', `f-${node.name}`.slice(0, 15), 'master', FABRIC_BRIDGE);
  await ipIn(node.netns, 'addr', 'add', `${node.ip}/${FABRIC_PREFIX}`, 'dev', 'eth0');
  // On lo, so the agent can bind it before any pod exists (not every kernel has dummy links).
  await ipIn(node.netns, 'addr', 'add', `${node.podGateway}/32`, 'dev', 'lo');
  await sysctlIn(node.netns, 'net.ipv4.ip_forward', '1');
  // Like a node's default route: connect() to a ClusterIP needs a route before
  // kube-proxy's OUTPUT DNAT can rewrite it.
  await ipIn(node.netns, 'route', 'add', CLUSTER_IP_CIDR, 'via', FABRIC_GATEWAY);
  await ipIn(paths.fabricNetns, 'route', 'add', node.podCIDR, 'via', node.ip);
  for (const peer of peers) {
    if (peer.name === node.name) continue;
    await ipIn(node.netns, 'route', 'add', peer.podCIDR, 'via', peer.ip);
  }
}

export interface PodNet {
  netns: string;
  ip: string;
  node: NodeNet;
}

/** The node-side veth name of a pod: unique per pod, within IFNAMSIZ. */
export function podHostInterface(podNetns: string): string {
  return `av${shortHash(podNetns, 10)}`;
}

export async function createPodNetwork(pod: PodNet): Promise<void> {
  const hostIf = podHostInterface(pod.netns);
  await addNetns(pod.netns);
  try {
    await addVeth({ netns: pod.node.netns, name: hostIf }, { netns: pod.netns, name: 'eth0' }, `at${shortHash(pod.netns, 8)}`);
    // The gateway address on the veth answers the pod's ARP for it.
    await ipIn(pod.node.netns, 'addr', 'add', `${pod.node.podGateway}/32`, 'dev', hostIf);
    await ipIn(pod.node.netns, 'route', 'add', `${pod.ip}/32`, 'dev', hostIf);
    await ipIn(pod.netns, 'addr', 'add', `${pod.ip}/32`, 'dev', 'eth0');
    await ipIn(pod.netns, 'route', 'add', pod.node.podGateway, 'dev', 'eth0');
    await ipIn(pod.netns, 'route', 'add', 'default', 'via', pod.node.podGateway, 'dev', 'eth0');
  } catch (err) {
    await deletePodNetwork(pod.netns);
    throw err;
  }
}

/** Deleting the namespace destroys its veth end and so the node's end too. */
export async function deletePodNetwork(netns: string): Promise<void> {
  await deleteNetns(netns);
}
