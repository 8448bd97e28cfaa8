import { parseArgs } from 'node:util';
import { CHART } from './kube.js';
import { OUTPUT_FORMATS, type OutputFormat } from './output.js';

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

export interface CheckOptions {
  pre: boolean;
  output: OutputFormat;
  kubeconfig: string | undefined;
  context: string | undefined;
  namespace: string;
}

/** Bad arguments: the command prints this and the usage, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function parseCheckArgs(args: string[]): CheckOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        pre: { type: 'boolean', default: false },
        output: { type: 'string', short: 'o', default: 'human' },
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        namespace: { type: 'string', short: 'n', default: CHART.namespace },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) return 'help';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(values.output)) throw new UsageError(`-o must be one of ${OUTPUT_FORMATS.join(', ')}, got ${JSON.stringify(values.output)}`);
  if (!DNS_LABEL.test(values.namespace)) throw new UsageError(`-n ${JSON.stringify(values.namespace)} is not a namespace name (a DNS label)`);
  if (values.kubeconfig === '') throw new UsageError('--kubeconfig needs a file');
  if (values.context === '') throw new UsageError('--context needs a name');
  return { pre: values.pre, output: values.output as OutputFormat, kubeconfig: values.kubeconfig, context: values.context, namespace: values.namespace };
}
