import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Logger } from '../../lib/log.js';

/**
 * The agent's readiness as a file in its own pod (AMBIT_READY_FILE, the chart's /tmp emptyDir),
 * for an exec readiness probe (`cat /tmp/ready`). An HTTP probe cannot tell the agents of a
 * node apart during a rolling update: both have the node's address (hostNetwork) and share
 * 15020 (SO_REUSEPORT), so the kubelet's probe of the new pod may be answered by the old
 * agent, which would make the new pod ready before its agent is, let the DaemonSet controller
 * delete the old one, and let a new version that never becomes ready roll over every node.
 * The file is in the pod's own volume: only this agent writes it.
 */
export function keepReadyFile(file: string, notReady: () => string | undefined, log: Logger, everyMs = 500): { close(): void } {
  let ready: boolean | undefined;
  const check = () => {
    const why = notReady();
    if ((why === undefined) === ready) return;
    ready = why === undefined;
    if (ready) {
      // Logged first: no probe can have seen the file before the line's time.
      log.info({ file }, 'ready: the readiness file is written');
      writeFileSync(`${file}.tmp`, `ready (pid ${process.pid})\n`);
      renameSync(`${file}.tmp`, file);
    } else {
      rmSync(file, { force: true });
      log.info({ file, why }, 'not ready: the readiness file is removed');
    }
  };
  check();
  const timer = setInterval(check, everyMs);
  timer.unref();
  return {
    close: () => {
      clearInterval(timer);
      rmSync(file, { force: true });
    },
  };
}
