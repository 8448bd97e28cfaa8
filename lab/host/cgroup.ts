import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { AmbitError } from '../../lib/errors.js';
import { run } from './exec.js';

const FALLBACK_CGROUP2 = '/run/ambit/cgroup2';

/** The machine's cgroup-v2 mount, mounting one if there is none (hybrid or v1-only hosts). */
export async function ensureCgroup2(): Promise<string> {
  const found = findMount('cgroup2');
  if (found) return found;
  mkdirSync(FALLBACK_CGROUP2, { recursive: true });
  await run('mount', ['-t', 'cgroup2', 'none', FALLBACK_CGROUP2]);
  return FALLBACK_CGROUP2;
}

export async function ensureBpffs(path = '/sys/fs/bpf'): Promise<string> {
  const mounts = readMounts();
  if (mounts.some((m) => m.type === 'bpf' && m.dir === path)) return path;
  mkdirSync(path, { recursive: true });
  await run('mount', ['-t', 'bpf', 'bpf', path]);
  return path;
}

export function findMount(type: string): string | undefined {
  return readMounts().find((m) => m.type === type)?.dir;
}

function readMounts(): { dir: string; type: string }[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [, dir = '', type = ''] = l.split(' ');
      return { dir, type };
    });
}

export function makeCgroup(path: string): void {
  mkdirSync(path, { recursive: true });
}

/** All pids in a cgroup subtree. */
export function cgroupPids(path: string): number[] {
  if (!existsSync(path)) return [];
  const pids: number[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 16) return;
    const procs = join(dir, 'cgroup.procs');
    if (existsSync(procs)) {
      for (const l of readFileSync(procs, 'utf8').split('\n')) if (l) pids.push(Number(l));
    }
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name), depth + 1);
  };
  walk(path, 0);
  return pids;
}

/**
 * cgroup v2's `populated` flag of a subtree. Unlike `cgroup.procs` it stays 1
 * while a killed process is still exiting (freeing a large heap takes a
 * while), and rmdir fails with EBUSY until it drops.
 */
function populated(path: string): boolean {
  try {
    return /^populated 1$/m.test(readFileSync(join(path, 'cgroup.events'), 'utf8'));
  } catch {
    return false; // no such file (cgroup v1 or gone): cgroup.procs is all there is
  }
}

/**
 * Kills every process in a subtree (all of them started by the lab, found by
 * pid through the cgroup) and removes the directories, deepest first. cgroup
 * directories can only be removed once empty, so wait (at most 5 s) for the
 * killed processes to be gone.
 */
export async function removeCgroupTree(path: string): Promise<void> {
  if (!existsSync(path)) return;
  for (let attempt = 0; attempt < 250; attempt++) {
    const all = cgroupPids(path);
    const pids = all.filter((p) => p !== process.pid);
    // A caller inside the tree keeps it populated: then only the others count.
    if (pids.length === 0 && (all.length > 0 || !populated(path))) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  // Another teardown may remove parts of the tree at the same time: a folder
  // that is already gone is fine.
  const gone = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';
  const rm = (dir: string, depth: number) => {
    if (depth > 16) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if (gone(err)) return;
      throw err;
    }
    for (const e of entries) if (e.isDirectory()) rm(join(dir, e.name), depth + 1);
    try {
      rmdirSync(dir);
    } catch (err) {
      if (gone(err)) return;
      throw new AmbitError('AMBIT_ERR_LAB_SETUP', `cannot remove cgroup ${dir}: ${(err as Error).message}`);
    }
  };
  rm(path, 0);
}
