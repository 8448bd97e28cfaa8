/**
 * `ambit check [--pre]`: checks a machine and a cluster before installing
 * Ambit, and an installed mesh after. Wiring only: the checks are in
 * *-checks.ts, the order and the runner in runner.ts, the output in output.ts.
 */
import { withCluster } from '../cluster/target.js';
import { upLab } from '../lab.js';
import { UsageError } from '../options.js';
import { CHECK_USAGE, parseCheckArgs } from './args.js';
import { realNodeProbe } from './node-probe.js';
import { EXIT, exitCodeOf, render } from './output.js';
import { plan, runChecks, summarize } from './runner.js';

export { CHECK_USAGE } from './args.js';
export { EXIT } from './output.js';

export async function checkCommand(args: string[]): Promise<number> {
  try {
    const opts = parseCheckArgs(args);
    if (opts === 'help') {
      process.stdout.write(CHECK_USAGE);
      return EXIT.ok;
    }
    return await withCluster(opts, upLab, async (cluster) => {
      const mode = opts.pre ? 'pre' : 'post';
      const results = await runChecks(plan(mode), { ...cluster, namespace: opts.namespace, node: realNodeProbe, now: Date.now });
      const report = summarize(mode, cluster.target, opts.namespace, results);
      process.stdout.write(render(report, opts.output, realNodeProbe.hostname()));
      return exitCodeOf(report);
    });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`ambit check: ${err.message}\n\n${CHECK_USAGE}`);
    return EXIT.usage;
  }
}
