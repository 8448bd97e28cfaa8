import { CHART } from '../cluster/kube.js';
import { parse, targetOptions, type TargetOptions } from '../options.js';

export { UsageError } from '../options.js';

export const CHECK_USAGE = `usage: ambit check [--pre] [-o human|json|yaml] [--kubeconfig FILE] [--context NAME] [-n NAMESPACE]

  --pre             before installing: this machine's kernel, BPF, bpffs and cgroup v2
                    (node-local), the API server's version, Gateway API CRDs, and your
                    permissions to install the chart
  (no --pre)        after installing: CRDs, controller, trust root, an agent on every
                    node, config ACKed by every agent, Waypoints Programmed
  -o, --output      human (default), json or yaml
  --kubeconfig      kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
  --context         kubeconfig context (default: its current context)
  -n, --namespace   where the chart is installed (default ${CHART.namespace})

Which cluster: --kubeconfig, --context or $KUBECONFIG name one; without them, a lab that is up
(AMBIT_LAB, or the only one up) is checked; else ~/.kube/config or in-cluster credentials.
Exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 2 bad usage.
`;

export interface CheckOptions extends TargetOptions {
  pre: boolean;
}

export function parseCheckArgs(args: string[]): CheckOptions | 'help' {
  const { values } = parse(args, {
    pre: { type: 'boolean', default: false },
    output: { type: 'string', short: 'o', default: 'human' },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    namespace: { type: 'string', short: 'n', default: CHART.namespace },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return 'help';
  return { pre: values.pre, ...targetOptions({ ...values, 'mesh-namespace': values.namespace }, '-n') };
}
