/** `ambit config-dump NODE | NAMESPACE/POD | waypoint NAMESPACE/NAME`: what one proxy holds. */
import { AmbitError } from '../../lib/errors.js';
import { withCluster } from '../cluster/target.js';
import { EXIT } from '../exit.js';
import { renderData } from '../format.js';
import { upLab } from '../lab.js';
import { DNS_SUBDOMAIN, namespacedName, parse, TARGET_OPTIONS, TARGET_USAGE, targetOptions, UsageError } from '../options.js';
import { agentOf, nodeOfPod, waypointProxies } from '../proxies/locate.js';
import { stateFromDump } from '../proxies/state.js';
import { renderView } from './render.js';
import { podView, waypointView, wholeView, type ConfigView } from './view.js';

export const CONFIG_DUMP_USAGE = `usage: ambit config-dump NODE | NAMESPACE/POD | waypoint NAMESPACE/NAME [-o human|json|yaml] [--raw]

What one proxy holds, read from its own /config_dump (not from the controller):
  NODE                     the node agent of that node: workloads, Services, policies, certificates
  NAMESPACE/POD            the node agent of the pod's node, only what concerns the pod: the pod,
                           the Services it serves, the AuthorizationPolicies enforced on it, the
                           PeerAuthentications that cover it and its mTLS mode, its certificate
  waypoint NAMESPACE/NAME  a proxy of that Waypoint: the Services bound to it with their
                           TrafficPolicy, the AuthorizationPolicies it enforces, its routes
  --raw                    with -o json|yaml: the proxy's whole /config_dump as it answered

${TARGET_USAGE}

Exit codes: 0 shown; 2 bad usage; 3 no such node, pod or waypoint, or its proxy could not be read.
`;

type Subject = { kind: 'node'; node: string } | { kind: 'pod'; namespace: string; name: string } | { kind: 'waypoint'; namespace: string; name: string };

export function parseSubject(positionals: string[]): Subject {
  const [first, second, ...rest] = positionals;
  if (first === undefined) throw new UsageError('name a NODE, a NAMESPACE/POD or waypoint NAMESPACE/NAME');
  if (first === 'waypoint') {
    if (second === undefined || rest.length) throw new UsageError(`waypoint takes one NAMESPACE/NAME, got ${JSON.stringify(positionals.slice(1).join(' '))}`);
    return { kind: 'waypoint', ...namespacedName(second, 'waypoint') };
  }
  if (second !== undefined) throw new UsageError(`one proxy at a time, got ${JSON.stringify(positionals.join(' '))}`);
  if (first.includes('/')) return { kind: 'pod', ...namespacedName(first, 'pod') };
  if (!DNS_SUBDOMAIN.test(first)) throw new UsageError(`${JSON.stringify(first)} is not a node name`);
  return { kind: 'node', node: first };
}

export async function configDumpCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...TARGET_OPTIONS, raw: { type: 'boolean', default: false } }, true);
  if (values.help) {
    process.stdout.write(CONFIG_DUMP_USAGE);
    return EXIT.ok;
  }
  const opts = targetOptions(values);
  const subject = parseSubject(positionals);
  if (values.raw && opts.output === 'human') throw new UsageError('--raw is for -o json or -o yaml');
  return withCluster(opts, upLab, async (cluster) => {
    let view: ConfigView;
    let raw: unknown;
    if (subject.kind === 'waypoint') {
      const [proxy, ...others] = await waypointProxies(cluster, subject);
      raw = proxy!.dump;
      const replicas = others.length ? `; ${others.length} more replica${others.length > 1 ? 's' : ''}: ${others.map((o) => o.name).join(', ')}` : '';
      view = waypointView(`waypoint ${subject.namespace}/${subject.name} (pod ${proxy!.name}${replicas})`, proxy!.dump, stateFromDump(proxy!.dump.model, proxy!.name), subject);
    } else {
      const node = subject.kind === 'node' ? subject.node : await nodeOfPod(cluster, subject.namespace, subject.name);
      const agent = await agentOf(cluster, node);
      raw = agent.dump;
      const state = stateFromDump(agent.dump.model, agent.name);
      if (subject.kind === 'node') view = wholeView(`node-agent of ${node} (${agent.name})`, agent.dump, state);
      else {
        const w = state.all('Workload').find((x) => x.namespace === subject.namespace && x.name === subject.name);
        if (!w) throw new AmbitError('AMBIT_ERR_CONFIG', `the node agent of ${node} holds no workload ${subject.namespace}/${subject.name}: its config is behind ('ambit status')`);
        view = podView(`pod ${subject.namespace}/${subject.name} on ${node}, as its node agent (${agent.name}) holds it`, agent.dump, state, w);
      }
    }
    process.stdout.write(opts.output === 'human' ? renderView(view, Date.now()) : renderData(values.raw ? raw : view, opts.output));
    return EXIT.ok;
  });
}
