/** `ambit policy explain SRC DST[:PORT]`: which policies, route and TrafficPolicy decide a call, by the proxies' own code. */
import { withCluster, type Cluster } from '../cluster/target.js';
import { EXIT } from '../exit.js';
import { renderData } from '../format.js';
import { upLab } from '../lab.js';
import { parse, TARGET_OPTIONS, TARGET_USAGE, targetOptions, UsageError } from '../options.js';
import { agentOf, nodeOfPod, waypointProxies } from '../proxies/locate.js';
import { stateFromDump } from '../proxies/state.js';
import { parseQuestion } from './args.js';
import { explain } from './explain.js';
import { renderExplanation } from './render.js';
import type { ConfigSource, HeldState } from './types.js';

export const POLICY_USAGE = `usage: ambit policy explain SRC DST[:PORT] [--method M] [--path P] [--header NAME=VALUE]... [-o human|json|yaml]

Explains one call from pod SRC (NAMESPACE/POD) to DST: a Service (NAMESPACE/NAME, svc/NAMESPACE/NAME,
NAME.NAMESPACE[.svc.cluster.local]), a pod (pod/NAMESPACE/NAME, or NAMESPACE/NAME when no Service has
that name) or an address. PORT is the Service port (needed when it has several) or the pod's port.

It prints each proxy on the call's path and what it decides: the source's node agent (is the call
sent through a waypoint?), the waypoint if there is one (its AuthorizationPolicies per request,
the route and rule that match, the TrafficPolicy), and the node agent of each endpoint (the
PeerAuthentication in force, its AuthorizationPolicies), then the verdict. It runs the proxies'
own decision code on the config each proxy holds now (read from its /config_dump), so it
answers as the mesh would, including when a proxy is behind.

  --method, --path, --header   the HTTP request (default GET /); any of them makes the call HTTP
                               even on a port that does not declare it

${TARGET_USAGE}

Exit codes: 0 ALLOW; 1 DENY, MIXED (refused on some endpoints) or FAIL (no route, no endpoint);
2 bad usage; 3 a pod, Service or proxy could not be found or read.
`;

/** The config the proxies hold, read from their dumps once each. */
function dumpSource(cluster: Cluster): ConfigSource {
  const agents = new Map<string, Promise<HeldState>>();
  const waypoints = new Map<string, Promise<HeldState>>();
  return {
    agent: (node) => {
      let held = agents.get(node);
      if (!held) {
        held = agentOf(cluster, node).then((a) => ({ proxy: a.name, state: stateFromDump(a.dump.model, a.name), complete: a.dump.model.complete }));
        agents.set(node, held);
      }
      return held;
    },
    waypoint: (ref) => {
      const key = `${ref.namespace}/${ref.name}`;
      let held = waypoints.get(key);
      if (!held) {
        // Replicas hold the same config once in sync ('ambit status' says whether they are); the first answers.
        held = waypointProxies(cluster, ref).then(([p]) => ({ proxy: p!.name, state: stateFromDump(p!.dump.model, p!.name), complete: p!.dump.model.complete }));
        waypoints.set(key, held);
      }
      return held;
    },
  };
}

export async function policyCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(POLICY_USAGE);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  if (sub !== 'explain') throw new UsageError(`unknown policy command ${JSON.stringify(sub)}: the one there is is 'explain'`);
  const { values, positionals } = parse(rest, { ...TARGET_OPTIONS, method: { type: 'string' }, path: { type: 'string' }, header: { type: 'string', short: 'H', multiple: true } }, true);
  if (values.help) {
    process.stdout.write(POLICY_USAGE);
    return EXIT.ok;
  }
  const opts = targetOptions(values);
  const question = parseQuestion(positionals, values);
  return withCluster(opts, upLab, async (cluster) => {
    const node = await nodeOfPod(cluster, question.source.namespace, question.source.name);
    const e = await explain(question, node, dumpSource(cluster));
    process.stdout.write(opts.output === 'human' ? renderExplanation(e) : renderData(e, opts.output));
    return e.verdict === 'ALLOW' ? EXIT.ok : EXIT.failed;
  });
}
