import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { AmbitError } from '../../lib/errors.js';

/**
 * Finds a pod's cgroup below the node's pod root the way a kubelet lays them
 * out: `pod<uid>` (cgroupfs driver) or `kubepods-<qos>-pod<uid_with_underscores>.slice`
 * (systemd driver), possibly under a QoS folder. Depth is bounded.
 */
export function findPodCgroup(root: string, uid: string, maxDepth = 3): string | undefined {
  if (!existsSync(root)) return undefined;
  const names = new Set([`pod${uid}`, `pod${uid.replaceAll('-', '_')}`]);
  const matches = (name: string) =>
    names.has(name) || [...names].some((n) => name.endsWith(`-${n}.slice`));
  const search = (dir: string, depth: number): string | undefined => {
    if (depth > maxDepth) return undefined;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return undefined; // removed while we looked
    }
    for (const e of entries) if (e.isDirectory() && matches(e.name)) return join(dir, e.name);
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const found = search(join(dir, e.name), depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  return search(root, 0);
}

/**
 * The folder a kubelet puts every pod below, by its cgroup driver's name for
 * it: `kubepods` (cgroupfs), `kubepods.slice` (systemd), or `<root>-kubepods.slice`
 * (systemd with a --cgroup-root, as kind nodes have `kubelet.slice/kubelet-kubepods.slice`).
 */
const POD_ROOT_NAME = /^(kubepods|kubepods\.slice|[A-Za-z0-9_.:-]+-kubepods\.slice)$/;

export interface DetectedPodRoot {
  path: string;
  driver: 'cgroupfs' | 'systemd';
  /** How it was found, for the agent's start-up line. */
  how: string;
}

const driverOf = (path: string): DetectedPodRoot['driver'] => (basename(path).endsWith('.slice') ? 'systemd' : 'cgroupfs');

/**
 * Finds the kubelet's pod root below the node's cgroup-v2 mount. The agent's
 * own pod is the surest guide: its cgroup (found by the pod's UID) lies below
 * the root, which is the outermost ancestor with a pod-root name; so a node
 * with both a stale `kubepods` and a live `kubepods.slice` is not guessed
 * wrong. Without the UID (or before the kubelet made the pod's folder), the
 * one pod-root-named folder within two levels of the mount. Throws with what
 * it looked for when neither works: the chart value `nodeAgent.podCgroup`
 * then names the folder.
 */
export function detectPodCgroupRoot(mount: string, ownPodUid: string | undefined): DetectedPodRoot {
  if (!existsSync(mount)) throw new AmbitError('AMBIT_ERR_CONFIG', `the cgroup-v2 mount ${mount} does not exist: mount the node's /sys/fs/cgroup there`);
  if (ownPodUid) {
    const own = findPodCgroup(mount, ownPodUid, 5);
    if (own) {
      let root: string | undefined;
      for (let dir = dirname(own); dir.startsWith(`${mount}/`); dir = dirname(dir)) if (POD_ROOT_NAME.test(basename(dir))) root = dir;
      if (root) return { path: root, driver: driverOf(root), how: `the agent's own pod cgroup ${relative(mount, own)}` };
    }
  }
  const found: string[] = [];
  const scan = (dir: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (POD_ROOT_NAME.test(e.name)) found.push(join(dir, e.name));
      else if (depth < 1) scan(join(dir, e.name), depth + 1);
    }
  };
  scan(mount, 0);
  const hint = 'set the chart value nodeAgent.podCgroup (AMBIT_POD_CGROUP_ROOT) to the kubelet\'s pod cgroup';
  if (found.length === 1) return { path: found[0]!, driver: driverOf(found[0]!), how: 'the only pod cgroup root on the node' };
  if (found.length === 0) throw new AmbitError('AMBIT_ERR_CONFIG', `no kubelet pod cgroup (kubepods, kubepods.slice or *-kubepods.slice) within two levels of ${mount}: ${hint}`);
  throw new AmbitError('AMBIT_ERR_CONFIG', `several kubelet pod cgroups below ${mount} (${found.map((f) => relative(mount, f)).sort().join(', ')}) and the agent's own pod is in none of them: ${hint}`);
}
