import { AmbitError } from '../lib/errors.js';
import { EXIT, UsageError } from './exit.js';
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
  lab upgrade --chart DIR [--values FILE]... [--set K=V]... [--timeout 5m]
                                           helm upgrade the lab's release (CRDs left alone),
                                           waiting for the rollout
  lab uninstall [--no-hooks] [--timeout 5m]
                                           helm uninstall it: pre-delete hook Job, then its objects
  lab down                                 remove everything the lab made
  check [--pre] [-o json|yaml] [--kubeconfig F] [--context C] [-n NS]
                                           check a machine and cluster before installing (--pre),
                                           or an installed mesh
  status [-o json|yaml]                    the control plane, and every agent and waypoint: config
                                           versions ACKed per type, certificate expiry
  config-dump NODE | NAMESPACE/POD | waypoint NAMESPACE/NAME [-o json|yaml]
                                           what one proxy holds (workloads, Services, policies,
                                           routes, certificates)
  policy explain SRC DST[:PORT] [--method M] [--path P] [--header K=V]
                                           which PeerAuthentication, AuthorizationPolicies, route
                                           and TrafficPolicy decide a call, and the verdict
  waypoint apply|list|delete [-n NS] [--name NAME] [--for service|workload|all] [--enroll-namespace]
                                           manage Waypoints (as istioctl waypoint)

'ambit COMMAND --help' says more about each. status, config-dump, policy and waypoint (and check)
use a kubeconfig (--kubeconfig, --context, $KUBECONFIG) or, without one, the lab that is up.

exit codes (all but lab): 0 ok / healthy / allowed; 1 answered, and the answer is bad (a check
failed, a proxy out of sync, the call denied); 2 bad usage; 3 no answer (unreachable, not found).

environment: AMBIT_LAB=NAME selects a lab, so several can coexist. Unset, commands use the
lab "ambit", or the only lab that is up when "ambit" is not.
`;

interface Command {
  run: (args: string[]) => Promise<number>;
  usage: string;
}

/**
 * The commands that read the cluster: their usage is printed under a usage error. Each is
 * loaded when it runs: with the Kubernetes client behind them, loading them all cost every
 * `ambit lab` call about a second (scripts and the tests run it hundreds of times).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  status: async () => import('./status/index.js').then((m) => ({ run: m.statusCommand, usage: m.STATUS_USAGE })),
  'config-dump': async () => import('./config-dump/index.js').then((m) => ({ run: m.configDumpCommand, usage: m.CONFIG_DUMP_USAGE })),
  policy: async () => import('./policy/index.js').then((m) => ({ run: m.policyCommand, usage: m.POLICY_USAGE })),
  waypoint: async () => import('./waypoint/index.js').then((m) => ({ run: m.waypointCommand, usage: m.WAYPOINT_USAGE })),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const load = command === undefined ? undefined : COMMANDS[command];
  if (load) {
    const cmd = await load();
    try {
      return await cmd.run(rest);
    } catch (err) {
      if (err instanceof UsageError) {
        process.stderr.write(`ambit ${command}: ${err.message}\n\n${cmd.usage}`);
        return EXIT.usage;
      }
      if (err instanceof AmbitError) {
        process.stderr.write(`ambit ${command}: ${err.message} [${err.code}]\n`);
        return EXIT.unknown;
      }
      throw err;
    }
  }
  switch (command) {
    case 'lab':
      return labCommand(rest);
    case 'check':
      return (await import('./check/index.js')).checkCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? EXIT.usage : EXIT.ok;
    default:
      process.stderr.write(`ambit: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return EXIT.usage;
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
