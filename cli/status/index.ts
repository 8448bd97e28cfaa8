/** `ambit status`: the control plane and every proxy's config sync and certificates (as istioctl proxy-status). */
import { withCluster } from '../cluster/target.js';
import { EXIT } from '../exit.js';
import { renderData } from '../format.js';
import { upLab } from '../lab.js';
import { parse, TARGET_OPTIONS, TARGET_USAGE, targetOptions } from '../options.js';
import { collectStatus } from './collect.js';
import { renderStatus } from './render.js';

export const STATUS_USAGE = `usage: ambit status [-o human|json|yaml] [--kubeconfig FILE] [--context NAME] [--mesh-namespace NS]

The controller replicas (ready, config streams, serving certificate and roots), then every node
agent and waypoint proxy: per resource type whether it ACKed the version the controller holds
for it (SYNCED), has a newer one on its way (STALE), rejected it (NACKED) or has none yet
(NOT SENT), the controller replica it streams from, and when its certificates expire.

${TARGET_USAGE}

Exit codes: 0 every controller ready and every proxy SYNCED with valid certificates;
1 something is not (listed under Problems); 2 bad usage; 3 the cluster could not be read.
`;

export async function statusCommand(args: string[]): Promise<number> {
  const { values } = parse(args, TARGET_OPTIONS);
  if (values.help) {
    process.stdout.write(STATUS_USAGE);
    return EXIT.ok;
  }
  const opts = targetOptions(values);
  return withCluster(opts, upLab, async (cluster) => {
    const now = Date.now();
    const report = await collectStatus(cluster, now);
    process.stdout.write(opts.output === 'human' ? renderStatus(report, now) : renderData(report, opts.output));
    return report.healthy ? EXIT.ok : EXIT.failed;
  });
}
