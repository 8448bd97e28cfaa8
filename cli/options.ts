import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CHART } from './cluster/kube.js';
import { UsageError } from './exit.js';
import { OUTPUT_FORMATS, type OutputFormat } from './format.js';

export { UsageError } from './exit.js';

/** Which cluster and how to answer: the options every command that reads the cluster takes. */
export interface TargetOptions {
  output: OutputFormat;
  kubeconfig: string | undefined;
  context: string | undefined;
  /** Where the chart is installed (the mesh's own pods). */
  namespace: string;
}

/** The parseArgs spelling of TargetOptions, to spread into a command's own options. */
export const TARGET_OPTIONS = {
  output: { type: 'string', short: 'o', default: 'human' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  // `-n` is the namespace of what a command is about (as kubectl and istioctl read it); the
  // mesh's own is rarely anything but the default, so it gets the long name (ambit check, older, says -n).
  'mesh-namespace': { type: 'string', default: CHART.namespace },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

/** The usage lines of TARGET_OPTIONS, for each command's help. */
export const TARGET_USAGE = `  -o, --output      human (default), json or yaml
  --kubeconfig      kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
  --context         kubeconfig context (default: its current context)
  --mesh-namespace  where the chart is installed (default ${CHART.namespace})

Which cluster: --kubeconfig, --context or $KUBECONFIG name one; without them, a lab that is up
(AMBIT_LAB, or the only one up) is used; else ~/.kube/config or in-cluster credentials.`;

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A DNS subdomain (RFC 1123), as most object names are. */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** node:util parseArgs, with its complaints as UsageErrors. */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, positionals = false) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: positionals });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** Checks the parsed TARGET_OPTIONS values. */
export function targetOptions(values: { output?: string; kubeconfig?: string; context?: string; 'mesh-namespace'?: string }, namespaceFlag = '--mesh-namespace'): TargetOptions {
  const output = values.output ?? 'human';
  const namespace = values['mesh-namespace'] ?? CHART.namespace;
  if (!(OUTPUT_FORMATS as readonly string[]).includes(output)) throw new UsageError(`-o must be one of ${OUTPUT_FORMATS.join(', ')}, got ${JSON.stringify(output)}`);
  if (!DNS_LABEL.test(namespace)) throw new UsageError(`${namespaceFlag} ${JSON.stringify(namespace)} is not a namespace name (a DNS label)`);
  if (values.kubeconfig === '') throw new UsageError('--kubeconfig needs a file');
  if (values.context === '') throw new UsageError('--context needs a name');
  return { output: output as OutputFormat, kubeconfig: values.kubeconfig, context: values.context, namespace };
}

/** `NAMESPACE/NAME`, both DNS names; `what` names the argument in the complaint. */
export function namespacedName(ref: string | undefined, what: string): { namespace: string; name: string } {
  const m = /^([^/]+)\/([^/]+)$/.exec(ref ?? '');
  if (!m || !DNS_LABEL.test(m[1]!) || !DNS_SUBDOMAIN.test(m[2]!)) throw new UsageError(`${what}: expected NAMESPACE/NAME, got ${JSON.stringify(ref ?? '')}`);
  return { namespace: m[1]!, name: m[2]! };
}
