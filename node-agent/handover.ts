import { closeSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import type { Logger } from '../lib/log.js';

/**
 * Restarting the agent without refusing a connection (a DaemonSet rolling
 * update with maxSurge 1). The successor starts while this agent still
 * serves: it re-adopts the eBPF and capture state, gets a complete config,
 * and listens on the same ports beside this one (SO_REUSEPORT). Only then
 * does this agent stop accepting; connections already queued on its
 * listeners move to the successor's (tcp_migrate_req) instead of being reset,
 * and open ones drain.
 */

const MIGRATE_REQ = '/proc/sys/net/ipv4/tcp_migrate_req';

/**
 * Lets the kernel hand the connections queued on a closing listener to another
 * listener of the same port (Linux >= 5.14; per network namespace). Without
 * it, closing a listener resets what is in its accept queue.
 */
export function enableListenerMigration(log: Logger): void {
  try {
    if (readFileSync(MIGRATE_REQ, 'utf8').trim() !== '1') writeFileSync(MIGRATE_REQ, '1');
  } catch (err) {
    log.warn({ err: (err as Error).message }, `cannot enable ${MIGRATE_REQ}: a restart may reset connections queued on the old agent's listeners (kernel older than 5.14?)`);
  }
}

/**
 * Socket inodes of the TCP listeners on `port` in this network namespace.
 * The kernel lists listening sockets before all others (tcp_get_idx in
 * tcp_ipv4.c), so the read stops at the first socket that is not listening:
 * under load the file holds tens of thousands of TIME_WAIT lines, and reading
 * all of it ten times a second cost a draining agent about a CPU-second.
 */
export function listenersOn(port: number, table = '/proc/net/tcp'): Set<string> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  const fd = openSync(table, 'r');
  try {
    const chunk = Buffer.alloc(64 * 1024);
    let partial = '';
    let header = true;
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) {
      const lines = (partial + chunk.toString('latin1', 0, n)).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (header) {
          header = false;
          continue;
        }
        // sl local_address rem_address st ... inode: state 0A is LISTEN.
        const f = line.trim().split(/\s+/);
        if (f[3] !== '0A') return inodes;
        if (f[1]?.endsWith(`:${hexPort}`) && f[9]) inodes.add(f[9]);
      }
    }
    return inodes;
  } finally {
    closeSync(fd);
  }
}

/** Socket inodes this process holds. */
function ownSockets(): Set<string> {
  const own = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) own.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return own;
}

/** Whether another process listens on `port` (a successor agent). */
export function successorListens(port: number): boolean {
  const own = ownSockets();
  return [...listenersOn(port)].some((inode) => !own.has(inode));
}

/** Waits (at most `ms`) for another process to listen on `port`; whether one does. */
export async function awaitSuccessor(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (successorListens(port)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
