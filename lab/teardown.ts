import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { logger } from '../lib/log.js';
import { findMount, removeCgroupTree } from './host/cgroup.js';
import { deleteNetns, listNetns } from './host/netns.js';
import type { LabPaths } from './paths.js';
import { controlRequest } from './supervisor/control.js';

const log = logger('lab', 'teardown');

/**
 * Removes everything a lab made, found by its names rather than by any state
 * file, so it works after a crash and is safe to run twice: every process in
 * the lab's cgroups (the supervisor joins one first thing; all of them were
 * started by the lab), the
 * network namespaces (their veths go with them), the cgroups, the bpffs pins
 * and the state folder.
 */
export async function teardown(paths: LabPaths): Promise<void> {
  if (existsSync(paths.controlSocket)) {
    // A live supervisor stops its agents and pods gracefully first.
    await controlRequest(paths.controlSocket, 'POST', '/shutdown', {}, 20_000).catch(() => undefined);
  }
  const cg2 = findMount('cgroup2');
  if (cg2) await removeCgroupTree(paths.cgroupRoot(cg2));
  for (const ns of await listNetns(paths.prefix)) await deleteNetns(ns);
  if (existsSync('/sys/fs/bpf')) {
    for (const name of readdirSync('/sys/fs/bpf')) {
      if (name.startsWith(paths.prefix)) rmSync(join('/sys/fs/bpf', name), { recursive: true, force: true });
    }
  }
  rmSync(paths.stateDir, { recursive: true, force: true });
  log.debug({ lab: paths.lab }, 'lab removed');
}
