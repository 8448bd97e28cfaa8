import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Finds a pod's cgroup below the node's pod root the way a kubelet lays them
 * out: `pod<uid>` (cgroupfs driver) or `kubepods-<qos>-pod<uid_with_underscores>.slice`
 * (systemd driver), possibly under a QoS folder. Depth is bounded.
 */
export function findPodCgroup(root: string, uid: string): string | undefined {
  if (!existsSync(root)) return undefined;
  const names = new Set([`pod${uid}`, `pod${uid.replaceAll('-', '_')}`]);
  const matches = (name: string) =>
    names.has(name) || [...names].some((n) => name.endsWith(`-${n}.slice`));
  const search = (dir: string, depth: number): string | undefined => {
    if (depth > 3) return undefined;
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
