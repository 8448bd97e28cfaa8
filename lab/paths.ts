import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AmbitError } from '../lib/errors.js';
import { ROOT_CA_KEY } from '../lib/identity/trust-file.js';

/**
 * Every name the lab puts on the host, derived from the lab's name so that
 * two labs (a test's and a user's) never collide and `lab down` can find all
 * of it again after a crash without any state file.
 */
export interface LabPaths {
  lab: string;
  /** Prefix of every network namespace and bpffs pin of this lab. */
  prefix: string;
  stateDir: string;
  controlSocket: string;
  /** The bearer token the lab's API server accepts (the operator's credential, as kubeadm's admin.conf; root only). */
  adminTokenFile: string;
  supervisorLog: string;
  manifestsFile: string;
  fabricNetns: string;
  /** Filled in once the cgroup-v2 mount is known. */
  cgroupRoot: (cgroup2: string) => string;
  nodeNetns: (node: string) => string;
  /** A node's own cgroup-v2 root (what /sys/fs/cgroup is on that node). */
  nodeHostCgroup: (cgroup2: string, node: string) => string;
  /** Where the node's kubelet puts pods: `kubepods` below its root, the cgroupfs driver's layout. */
  nodeCgroup: (cgroup2: string, node: string) => string;
  systemCgroup: (cgroup2: string, component: string) => string;
  podNetns: (uid: string) => string;
  podDir: (namespace: string, pod: string) => string;
  podLog: (namespace: string, pod: string) => string;
  componentLog: (component: string) => string;
  /** Every decision on a service account's API request, one JSON object a line. */
  auditLog: string;
  /** The release `lab up --chart` rendered and `lab upgrade` replaced (lab/chart/release.ts Release): the supervisor's input and its record of what is installed. */
  releaseFile: string;
  /** The node agent's mount of ConfigMap ambit-root-ca (the supervisor projects it, as kubelet would). */
  nodeRootCaFile: (node: string) => string;
  bpfPinDir: (node: string) => string;
  /** The folder holding the built eBPF objects and the compiled JS. */
  repoRoot: string;
}

export const DEFAULT_LAB = 'ambit';

/** Where every lab keeps its state folder, named after the lab. */
export const LABS_DIR = '/run/ambit/labs';

const LAB_NAME = /^[a-z][a-z0-9]{0,11}$/;

export const isLabName = (s: string): boolean => LAB_NAME.test(s);

export function labPaths(lab = process.env.AMBIT_LAB ?? DEFAULT_LAB): LabPaths {
  if (!isLabName(lab)) {
    throw new AmbitError('AMBIT_ERR_CONFIG', `lab name ${JSON.stringify(lab)} must be 1-12 lowercase letters or digits, starting with a letter`);
  }
  const prefix = lab === DEFAULT_LAB ? 'ambit-' : `ambit-${lab}-`;
  const stateDir = join(LABS_DIR, lab);
  return {
    lab,
    prefix,
    stateDir,
    controlSocket: join(stateDir, 'control.sock'),
    adminTokenFile: join(stateDir, 'admin-token'),
    supervisorLog: join(stateDir, 'supervisor.log'),
    manifestsFile: join(stateDir, 'initial-manifests.json'),
    fabricNetns: `${prefix}fabric`,
    cgroupRoot: (cg2) => join(cg2, `${prefix}lab`),
    nodeNetns: (node) => `${prefix}${node}`,
    nodeHostCgroup: (cg2, node) => join(cg2, `${prefix}lab`, 'nodes', node),
    nodeCgroup: (cg2, node) => join(cg2, `${prefix}lab`, 'nodes', node, 'kubepods'),
    systemCgroup: (cg2, component) => join(cg2, `${prefix}lab`, 'system', component),
    podNetns: (uid) => `${prefix}pod-${shortHash(uid)}`,
    podDir: (ns, pod) => join(stateDir, 'pods', `${ns}_${pod}`),
    podLog: (ns, pod) => join(stateDir, 'pods', `${ns}_${pod}`, 'output.log'),
    componentLog: (component) => join(stateDir, 'components', `${component}.log`),
    auditLog: join(stateDir, 'apiserver-audit.jsonl'),
    releaseFile: join(stateDir, 'chart-release.json'),
    nodeRootCaFile: (node) => join(stateDir, 'nodes', node, 'root-ca', ROOT_CA_KEY),
    bpfPinDir: (node) => `/sys/fs/bpf/${prefix}${node}`,
    repoRoot: resolve(fileURLToPath(import.meta.url), '..', '..', '..'),
  };
}

export function shortHash(s: string, len = 10): string {
  return createHash('sha256').update(s).digest('hex').slice(0, len);
}

/** The cgroup folder name a kubelet (cgroupfs driver) gives a pod. */
export function podCgroupName(uid: string): string {
  return `pod${uid}`;
}
