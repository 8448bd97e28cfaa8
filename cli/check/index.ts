/**
 * `ambit check [--pre]`: checks a machine and a cluster before installing
 * Ambit, and an installed mesh after. Wiring only: the checks are in
 * *-checks.ts, the order and the runner in runner.ts, the output in output.ts.
 */
import { spawn } from 'node:child_process';
import { AmbitError } from '../../lib/errors.js';
import { upLab } from '../lab.js';
import { CHECK_USAGE, parseCheckArgs, UsageError } from './args.js';
import { realNodeProbe } from './node-probe.js';
import { EXIT, exitCodeOf, render } from './output.js';
import { plan, runChecks, summarize } from './runner.js';
import { IN_LAB_ENV, resolveTarget } from './target.js';

export { CHECK_USAGE } from './args.js';
export { EXIT } from './output.js';

export async function checkCommand(args: string[]): Promise<number> {
  try {
    const opts = parseCheckArgs(args);
    if (opts === 'help') {
      process.stdout.write(CHECK_USAGE);
      return EXIT.ok;
    }
    const resolved = await resolveTarget(opts, process.env, upLab);
    if (resolved.kind === 'enter-lab') return enterLab(resolved.paths.fabricNetns, resolved.paths.lab, args);
    const mode = opts.pre ? 'pre' : 'post';
    const results = await runChecks(plan(mode), {
      kc: resolved.kc,
      target: resolved.target,
      namespace: opts.namespace,
      mesh: resolved.mesh,
      node: realNodeProbe,
      now: Date.now,
    });
    const report = summarize(mode, resolved.target, opts.namespace, results);
    process.stdout.write(render(report, opts.output, realNodeProbe.hostname()));
    return exitCodeOf(report);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`ambit check: ${err.message}\n\n${CHECK_USAGE}`);
    return EXIT.usage;
  }
}

/**
 * The lab's API server and admin ports live in its fabric network namespace,
 * which only root can enter; the same command runs again in there (node-local
 * checks are unaffected: only the network namespace changes).
 */
function enterLab(fabricNetns: string, lab: string, args: string[]): Promise<number> {
  if (process.getuid?.() !== 0) {
    throw new AmbitError('AMBIT_ERR_PRIVILEGE', `lab ${lab} is up and its API server is inside its network namespace: run ambit check as root, or pass --kubeconfig for another cluster`);
  }
  const argv = [`--net=/run/netns/${fabricNetns}`, process.execPath, ...process.execArgv, process.argv[1]!, 'check', ...args];
  return new Promise((resolve) => {
    const child = spawn('nsenter', argv, { stdio: 'inherit', env: { ...process.env, [IN_LAB_ENV]: lab } });
    child.on('error', (err) => {
      process.stderr.write(`ambit check: cannot enter lab ${lab}'s network namespace: ${err.message}\n`);
      resolve(EXIT.failed);
    });
    child.on('exit', (code) => resolve(code ?? EXIT.failed));
  });
}
