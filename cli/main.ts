import { AmbitError } from '../lib/errors.js';
import { checkCommand } from './check/index.js';
import { labCommand } from './lab.js';

const USAGE = `usage: ambit <command>

commands:
  lab up [-f FILE_OR_DIR]... [--nodes N]   boot the lab cluster (default 2 nodes)
      [--chart DIR [--values FILE]... [--set K=V]...]
                                           ... with the mesh run from the rendered Helm chart,
                                           its RBAC enforced on the components' tokens
  lab apply -f FILE_OR_DIR...              create or update objects
  lab delete -f FILE_OR_DIR...             delete objects
  lab exec NAMESPACE/POD -- CMD [ARGS...]  run a command inside a pod
  lab status [--json]                      nodes, pods, services, mesh processes
  lab logs NAMESPACE/POD                   a pod's output
  lab kubectl [ARGS...]                    kubectl against the lab's API server
  lab restart node-agent NODE | controller | waypoint NAMESPACE/NAME
                                           roll a mesh component (agent, waypoint: new process first)
  lab down                                 remove everything the lab made
  check [--pre] [-o json|yaml] [--kubeconfig F] [--context C] [-n NS]
                                           check a machine and cluster before installing (--pre),
                                           or an installed mesh; 'ambit check --help' for more

environment: AMBIT_LAB=NAME selects a lab, so several can coexist. Unset, commands use the
lab "ambit", or the only lab that is up when "ambit" is not.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'lab':
      return labCommand(rest);
    case 'check':
      return checkCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`ambit: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof AmbitError) {
    process.stderr.write(`ambit: ${err.message} [${err.code}]\n`);
  } else {
    process.stderr.write(`ambit: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exitCode = 1;
}
