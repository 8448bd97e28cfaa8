import { childPath, field, type Fields, type Rec } from '../../lib/crds/index.js';
import { dnsLabelProblem, dnsSubdomainProblem, portNameProblem } from '../../lib/k8s/names.js';

/**
 * The parts of a PodSpec the lab relies on: it runs each container's
 * `command` + `args` with `env` inside the pod's network namespace (images are
 * ignored), resolves named ports for Services, places the pod on `nodeName`,
 * and may run readiness probes. Other PodSpec fields pass through unchecked.
 */

export const CONTAINER_PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const VALUE_FROM = ['fieldRef', 'configMapKeyRef', 'secretKeyRef', 'resourceFieldRef'];

function checkEnv(f: Fields, v: unknown, path: string): void {
  f.records(v, path, (env, p) => {
    f.string(field(env, 'name'), childPath(p, 'name'), {
      required: true,
      check: (s) => (ENV_NAME.test(s) ? undefined : `must be an environment variable name: letters, digits, '_', '-' or '.', not starting with a digit (got ${JSON.stringify(s)})`),
    });
    f.string(field(env, 'value'), childPath(p, 'value'));
    const from = f.record(field(env, 'valueFrom'), childPath(p, 'valueFrom'));
    if (from) {
      if (field(env, 'value') !== undefined) f.add(p, 'set value or valueFrom, not both');
      const set = VALUE_FROM.filter((k) => field(from, k) !== undefined);
      if (set.length !== 1) f.add(childPath(p, 'valueFrom'), `must set exactly one of ${VALUE_FROM.join(', ')}`);
      for (const k of set) f.record(field(from, k), childPath(childPath(p, 'valueFrom'), k));
    }
  });
}

function checkEnvFrom(f: Fields, v: unknown, path: string): void {
  f.records(v, path, (src, p) => {
    f.string(field(src, 'prefix'), childPath(p, 'prefix'));
    const refs = ['configMapRef', 'secretRef'].filter((k) => field(src, k) !== undefined);
    if (refs.length !== 1) f.add(p, 'must set exactly one of configMapRef, secretRef');
    for (const k of refs) {
      const ref = f.record(field(src, k), childPath(p, k));
      if (ref) f.string(field(ref, 'name'), childPath(childPath(p, k), 'name'), { required: true, check: dnsSubdomainProblem });
    }
  });
}

/** A port that may be a number or the name of a container port (probes). */
function checkIntOrName(f: Fields, v: unknown, path: string): void {
  if (typeof v === 'string') {
    const problem = portNameProblem(v);
    if (problem) f.add(path, `must be a port number or a container port name: ${problem}`);
  } else f.port(v, path, { required: true });
}

function checkProbe(f: Fields, v: unknown, path: string): void {
  const probe = f.record(v, path);
  if (!probe) return;
  const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((k) => field(probe, k) !== undefined);
  if (handlers.length !== 1) f.add(path, 'must set exactly one of exec, httpGet, tcpSocket, grpc');
  const exec = f.record(field(probe, 'exec'), childPath(path, 'exec'));
  if (exec) f.stringList(field(exec, 'command'), childPath(childPath(path, 'exec'), 'command'), { required: true, nonEmpty: true, allowEmptyItems: true });
  const http = f.record(field(probe, 'httpGet'), childPath(path, 'httpGet'));
  if (http) {
    checkIntOrName(f, field(http, 'port'), childPath(childPath(path, 'httpGet'), 'port'));
    f.string(field(http, 'path'), childPath(childPath(path, 'httpGet'), 'path'));
    f.oneOf(field(http, 'scheme'), childPath(childPath(path, 'httpGet'), 'scheme'), ['HTTP', 'HTTPS'] as const);
  }
  const tcp = f.record(field(probe, 'tcpSocket'), childPath(path, 'tcpSocket'));
  if (tcp) checkIntOrName(f, field(tcp, 'port'), childPath(childPath(path, 'tcpSocket'), 'port'));
  const grpc = f.record(field(probe, 'grpc'), childPath(path, 'grpc'));
  if (grpc) f.port(field(grpc, 'port'), childPath(childPath(path, 'grpc'), 'port'), { required: true });
  for (const k of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    f.int(field(probe, k), childPath(path, k), { min: k === 'initialDelaySeconds' ? 0 : 1 });
  }
}

function checkContainer(f: Fields, c: Rec, path: string, ctx: { names: Set<string>; portNames: Set<string> }, init: boolean): void {
  const name = f.string(field(c, 'name'), childPath(path, 'name'), { required: true, check: dnsLabelProblem });
  if (name !== undefined) {
    if (ctx.names.has(name)) f.add(childPath(path, 'name'), `duplicates another container name "${name}" in this pod`);
    ctx.names.add(name);
  }
  f.string(field(c, 'image'), childPath(path, 'image'));
  f.stringList(field(c, 'command'), childPath(path, 'command'), { allowEmptyItems: true });
  f.stringList(field(c, 'args'), childPath(path, 'args'), { allowEmptyItems: true });
  f.string(field(c, 'workingDir'), childPath(path, 'workingDir'));
  checkEnv(f, field(c, 'env'), childPath(path, 'env'));
  checkEnvFrom(f, field(c, 'envFrom'), childPath(path, 'envFrom'));
  const seen = new Set<string>();
  f.records(field(c, 'ports'), childPath(path, 'ports'), (port, p) => {
    const number = f.port(field(port, 'containerPort'), childPath(p, 'containerPort'), { required: true });
    const protocol = f.oneOf(field(port, 'protocol'), childPath(p, 'protocol'), CONTAINER_PROTOCOLS) ?? 'TCP';
    const portName = f.string(field(port, 'name'), childPath(p, 'name'), { check: portNameProblem });
    if (portName !== undefined) {
      // Services resolve named targetPorts against these names, so they must be unique in the pod.
      if (ctx.portNames.has(portName)) f.add(childPath(p, 'name'), `duplicates another port name "${portName}" in this pod`);
      ctx.portNames.add(portName);
    }
    if (number !== undefined) {
      const key = `${number}/${protocol}`;
      if (seen.has(key)) f.add(p, `duplicates containerPort ${number}/${protocol} in this container`);
      seen.add(key);
    }
    f.int(field(port, 'hostPort'), childPath(p, 'hostPort'), { min: 1, max: 65535 });
  });
  for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
    if (init && field(c, probe) !== undefined) f.add(childPath(path, probe), 'is not allowed on an init container');
    else checkProbe(f, field(c, probe), childPath(path, probe));
  }
}

export interface PodSpecRules {
  /** Deployments only allow `Always`. */
  restartPolicies?: readonly string[];
}

export function checkPodSpec(f: Fields, v: unknown, path: string, rules: PodSpecRules = {}): void {
  const spec = f.record(v, path, { required: true });
  if (!spec) return;
  const ctx = { names: new Set<string>(), portNames: new Set<string>() };
  f.records(field(spec, 'initContainers'), childPath(path, 'initContainers'), (c, p) => checkContainer(f, c, p, ctx, true));
  f.records(field(spec, 'containers'), childPath(path, 'containers'), (c, p) => checkContainer(f, c, p, ctx, false), { required: true, nonEmpty: true });
  f.string(field(spec, 'nodeName'), childPath(path, 'nodeName'), { check: dnsSubdomainProblem });
  f.string(field(spec, 'serviceAccountName'), childPath(path, 'serviceAccountName'), { check: dnsSubdomainProblem });
  f.string(field(spec, 'serviceAccount'), childPath(path, 'serviceAccount'), { check: dnsSubdomainProblem });
  const sa = field(spec, 'serviceAccountName');
  const legacy = field(spec, 'serviceAccount');
  if (typeof sa === 'string' && typeof legacy === 'string' && sa !== legacy) {
    f.add(childPath(path, 'serviceAccount'), `the deprecated serviceAccount ("${legacy}") disagrees with serviceAccountName ("${sa}"); drop it`);
  }
  f.oneOf(field(spec, 'restartPolicy'), childPath(path, 'restartPolicy'), (rules.restartPolicies ?? ['Always', 'OnFailure', 'Never']) as readonly string[]);
  f.int(field(spec, 'terminationGracePeriodSeconds'), childPath(path, 'terminationGracePeriodSeconds'), { min: 0 });
  f.stringMap(field(spec, 'nodeSelector'), childPath(path, 'nodeSelector'));
  if (field(spec, 'hostNetwork') === true) f.add(childPath(path, 'hostNetwork'), 'is not supported by the lab: every pod gets its own network namespace');
}
