import { existsSync } from 'node:fs';
import { run } from './exec.js';

/** Network namespaces and links, through iproute2. */

export async function addNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

export async function deleteNetns(name: string): Promise<void> {
  if (existsSync(`/run/netns/${name}`)) await run('ip', ['netns', 'delete', name], { allowFail: true });
}

export async function listNetns(prefix: string): Promise<string[]> {
  const out = await run('ip', ['netns', 'list'], { allowFail: true });
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}

/** `ip -n NS ...` */
export function ipIn(netns: string, ...args: string[]): Promise<string> {
  return run('ip', ['-n', netns, ...args]);
}

/** Sets a sysctl inside a namespace by writing /proc through nsenter. */
export async function sysctlIn(netns: string, key: string, value: string): Promise<void> {
  await run('nsenter', [`--net=/run/netns/${netns}`, 'sysctl', '-qw', `${key}=${value}`]);
}

/**
 * A veth pair with one end in each namespace, both up. The ends get their
 * final names inside their namespaces, so the temporary names only need to be
 * unique on the host for the moment of creation.
 */
export async function addVeth(a: { netns: string; name: string }, b: { netns: string; name: string }, tmp: string): Promise<void> {
  const ta = `${tmp}a`;
  const tb = `${tmp}b`;
  await run('ip', ['link', 'add', ta, 'type', 'veth', 'peer', 'name', tb]);
  try {
    await run('ip', ['link', 'set', ta, 'netns', a.netns]);
    await run('ip', ['link', 'set', tb, 'netns', b.netns]);
    await ipIn(a.netns, 'link', 'set', ta, 'name', a.name);
    await ipIn(b.netns, 'link', 'set', tb, 'name', b.name);
    await ipIn(a.netns, 'link', 'set', a.name, 'up');
    await ipIn(b.netns, 'link', 'set', b.name, 'up');
  } catch (err) {
    await run('ip', ['link', 'delete', ta], { allowFail: true });
    throw err;
  }
}
