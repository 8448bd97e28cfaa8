import { checkLabelMap, childPath, field, type Fields, type Rec } from '../../lib/crds/index.js';
import { dnsLabelProblem, portNameProblem } from '../../lib/k8s/names.js';
import { clusterIpProblem } from '../ipam.js';

/**
 * Service as the lab serves it. Every Service gets a ClusterIP in
 * 10.96.0.0/16 (or none with `clusterIP: None`). NodePort and LoadBalancer
 * Services are accepted and behave exactly as ClusterIP ones, so ordinary
 * manifests (a "frontend-external" LoadBalancer, say) load unchanged; the lab
 * opens no node ports and assigns no external IPs. ExternalName is rejected
 * because the lab's DNS cannot answer it.
 */

export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer'] as const;
export const SERVICE_PROTOCOLS = ['TCP', 'UDP'] as const;

function checkTargetPort(f: Fields, v: unknown, path: string): void {
  if (v === undefined) return;
  if (typeof v === 'string') {
    if (/^\d+$/.test(v)) {
      f.add(path, `must be a port number or the name of a container port; "${v}" is a quoted number, write ${v} without quotes`);
      return;
    }
    const problem = portNameProblem(v);
    if (problem) f.add(path, `must be a port number or the name of a container port: ${problem}`);
    return;
  }
  f.port(v, path);
}

export function checkService(f: Fields, obj: Rec): void {
  const spec = f.record(field(obj, 'spec'), 'spec', { required: true });
  if (!spec) return;
  const type = field(spec, 'type');
  if (type === 'ExternalName') f.add('spec.type', 'ExternalName is not supported by the lab (its DNS has no CNAMEs); use a Service with a selector');
  else f.oneOf(type, 'spec.type', SERVICE_TYPES);

  const clusterIP = f.string(field(spec, 'clusterIP'), 'spec.clusterIP');
  const headless = clusterIP === 'None';
  if (clusterIP !== undefined && clusterIP !== '' && !headless) {
    const problem = clusterIpProblem(clusterIP);
    if (problem) f.add('spec.clusterIP', `${problem}; omit it to have one allocated`);
  }
  if (headless && (type === 'NodePort' || type === 'LoadBalancer')) f.add('spec.clusterIP', `None (headless) is not allowed for type ${type}`);
  const ips = f.stringList(field(spec, 'clusterIPs'), 'spec.clusterIPs');
  if (ips && ips.length > 0 && clusterIP !== undefined && clusterIP !== '' && ips[0] !== clusterIP) {
    f.add('spec.clusterIPs', `must start with spec.clusterIP (${clusterIP})`);
  }

  checkLabelMap(f, field(spec, 'selector'), 'spec.selector');
  f.bool(field(spec, 'publishNotReadyAddresses'), 'spec.publishNotReadyAddresses');

  const ports = f.list(field(spec, 'ports'), 'spec.ports', { required: !headless, nonEmpty: !headless });
  if (!ports) return;
  const names = new Set<string>();
  const numbers = new Set<string>();
  f.records(field(spec, 'ports'), 'spec.ports', (port, p) => {
    const name = f.string(field(port, 'name'), childPath(p, 'name'), { check: dnsLabelProblem });
    if (name === undefined && field(port, 'name') === undefined && ports.length > 1) {
      f.add(childPath(p, 'name'), 'required when a Service has more than one port');
    }
    if (name !== undefined) {
      if (names.has(name)) f.add(childPath(p, 'name'), `duplicates another port name "${name}"`);
      names.add(name);
    }
    const number = f.port(field(port, 'port'), childPath(p, 'port'), { required: true });
    let protocol: string = 'TCP';
    if (field(port, 'protocol') === 'SCTP') f.add(childPath(p, 'protocol'), 'SCTP is not supported by the lab; use TCP or UDP');
    else protocol = f.oneOf(field(port, 'protocol'), childPath(p, 'protocol'), SERVICE_PROTOCOLS) ?? 'TCP';
    if (number !== undefined) {
      const key = `${number}/${protocol}`;
      if (numbers.has(key)) f.add(p, `duplicates port ${key}`);
      numbers.add(key);
    }
    checkTargetPort(f, field(port, 'targetPort'), childPath(p, 'targetPort'));
    f.string(field(port, 'appProtocol'), childPath(p, 'appProtocol'));
    f.int(field(port, 'nodePort'), childPath(p, 'nodePort'), { min: 1, max: 65535 });
  });
}
