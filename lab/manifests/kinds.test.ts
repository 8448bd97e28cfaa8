import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkManifestText } from './index.js';

/** `path: message` of every issue of one object, given as a JS value (serialized to JSON, which is YAML). */
function problems(obj: unknown): string[] {
  return checkManifestText(JSON.stringify(obj), 'k.json').issues.map((i) => `${i.path ?? ''}: ${i.message}`);
}

const pod = (spec: unknown, meta: Record<string, unknown> = {}): unknown => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ...meta }, spec });
const deployment = (spec: Record<string, unknown>): unknown => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec });
const service = (spec: unknown, name = 'web'): unknown => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });
const template = (labels: unknown, spec: unknown = { containers: [{ name: 'c' }] }): unknown => ({ metadata: { labels }, spec });

describe('metadata', () => {
  test('labels and annotations are strings with valid keys', () => {
    assert.deepEqual(problems(pod({ containers: [{ name: 'c' }] }, { labels: { version: 2, 'bad key!': 'x' }, annotations: { note: true } })), [
      'metadata.labels.version: must be a string (got 2; quote it if it is meant as text: "2")',
      'metadata.labels["bad key!"]: key must be a qualified name: an optional DNS prefix and \'/\', then at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit (got "bad key!")',
      'metadata.annotations.note: must be a string (got true; quote it if it is meant as text: "true")',
    ]);
  });

  test("Ambit's own labels are spelt right", () => {
    assert.deepEqual(problems(pod({ containers: [{ name: 'c' }] }, { labels: { 'ambit.dev/dataplane-mode': 'off' } })), [
      'metadata.labels["ambit.dev/dataplane-mode"]: must be one of ambient, none (got "off")',
    ]);
    assert.deepEqual(problems(service({ ports: [{ port: 80 }] }, 'web')).length, 0);
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', labels: { 'ambit.dev/use-waypoint': 'My_WP' } }, spec: { ports: [{ port: 80 }] } };
    assert.match(problems(svc)[0]!, /^metadata\.labels\["ambit\.dev\/use-waypoint"\]: must name a Waypoint or be "none"/);
  });

  test('namespace must be a DNS label', () => {
    assert.match(problems(pod({ containers: [{ name: 'c' }] }, { namespace: 'Team.A' }))[0]!, /^metadata\.namespace: must be a DNS-1123 label/);
  });
});

describe('Pod', () => {
  test('containers are required and named uniquely', () => {
    assert.deepEqual(problems(pod({})), ['spec.containers: required']);
    assert.deepEqual(problems(pod({ containers: [] })), ['spec.containers: must not be empty']);
    assert.deepEqual(problems(pod(undefined)), ['spec: required']);
    assert.deepEqual(problems(pod({ containers: [{ name: 'a' }, { name: 'a' }] })), ['spec.containers[1].name: duplicates another container name "a" in this pod']);
    assert.deepEqual(problems(pod({ containers: [{}] })), ['spec.containers[0].name: required']);
    assert.deepEqual(problems(pod({ containers: ['c'] })), ['spec.containers[0]: must be a mapping of fields (got "c")']);
  });

  test('command, args and env', () => {
    assert.deepEqual(problems(pod({ containers: [{ name: 'c', command: ['sh', '-c', ''], args: [] }] })), []);
    assert.deepEqual(problems(pod({ containers: [{ name: 'c', command: 'sh -c x' }] })), ['spec.containers[0].command: must be a list (got "sh -c x")']);
    assert.deepEqual(problems(pod({ containers: [{ name: 'c', args: [1] }] })), [
      'spec.containers[0].args: must be a list of strings (item 0 is 1; quote it if it is meant as text: "1")',
    ]);
    assert.deepEqual(
      problems(pod({ containers: [{ name: 'c', env: [{ value: 'x' }, { name: '1BAD', value: 'x' }, { name: 'A', value: 'x', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }, { name: 'B', valueFrom: {} }] }] })),
      [
        'spec.containers[0].env[0].name: required',
        'spec.containers[0].env[1].name: must be an environment variable name: letters, digits, \'_\', \'-\' or \'.\', not starting with a digit (got "1BAD")',
        'spec.containers[0].env[2]: set value or valueFrom, not both',
        'spec.containers[0].env[3].valueFrom: must set exactly one of fieldRef, configMapKeyRef, secretKeyRef, resourceFieldRef',
      ],
    );
    assert.deepEqual(problems(pod({ containers: [{ name: 'c', envFrom: [{ configMapRef: { name: 'cfg' } }, {}] }] })), [
      'spec.containers[0].envFrom[1]: must set exactly one of configMapRef, secretRef',
    ]);
  });

  test('container ports', () => {
    assert.deepEqual(
      problems(pod({ containers: [{ name: 'a', ports: [{ containerPort: 8080, name: 'http' }, { containerPort: 0 }, { name: 'x' }, { containerPort: 9, protocol: 'tcp' }] }, { name: 'b', ports: [{ containerPort: 1, name: 'http' }, { containerPort: 2, name: 'HTTP' }] }] })),
      [
        'spec.containers[0].ports[1].containerPort: must be between 1 and 65535 (got 0)',
        'spec.containers[0].ports[2].containerPort: required',
        'spec.containers[0].ports[3].protocol: must be one of TCP, UDP, SCTP (got "tcp"; did you mean "TCP"?)',
        'spec.containers[1].ports[0].name: duplicates another port name "http" in this pod',
        'spec.containers[1].ports[1].name: must be lower-case letters, digits and \'-\', starting and ending with a letter or digit (got "HTTP")',
      ],
    );
    assert.deepEqual(problems(pod({ containers: [{ name: 'a', ports: [{ containerPort: 80 }, { containerPort: 80, protocol: 'TCP' }] }] })), [
      'spec.containers[0].ports[1]: duplicates containerPort 80/TCP in this container',
    ]);
  });

  test('probes, nodeName, restartPolicy, hostNetwork', () => {
    assert.deepEqual(problems(pod({ containers: [{ name: 'a', readinessProbe: { httpGet: { port: 'http', path: '/' }, periodSeconds: 1 } }] })), []);
    assert.deepEqual(problems(pod({ containers: [{ name: 'a', readinessProbe: { periodSeconds: 0 } }] })), [
      'spec.containers[0].readinessProbe: must set exactly one of exec, httpGet, tcpSocket, grpc',
      'spec.containers[0].readinessProbe.periodSeconds: must be at least 1 (got 0)',
    ]);
    assert.deepEqual(problems(pod({ containers: [{ name: 'a', livenessProbe: { tcpSocket: { port: 70000 } } }] })), [
      'spec.containers[0].livenessProbe.tcpSocket.port: must be between 1 and 65535 (got 70000)',
    ]);
    assert.deepEqual(problems(pod({ nodeName: 'Node_1', containers: [{ name: 'a' }] })).length, 1);
    assert.deepEqual(problems(pod({ restartPolicy: 'Sometimes', containers: [{ name: 'a' }] })), [
      'spec.restartPolicy: must be one of Always, OnFailure, Never (got "Sometimes")',
    ]);
    assert.deepEqual(problems(pod({ hostNetwork: true, containers: [{ name: 'a' }] })), [
      'spec.hostNetwork: is not supported by the lab: every pod gets its own network namespace',
    ]);
    assert.deepEqual(problems(pod({ serviceAccountName: 'a', serviceAccount: 'b', containers: [{ name: 'a' }] })).length, 1);
  });
});

describe('Deployment', () => {
  test('valid with a selector matching the template', () => {
    assert.deepEqual(problems(deployment({ replicas: 0, selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web', v: '1' }) })), []);
    assert.deepEqual(
      problems(deployment({ selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] }, template: template({ app: 'api' }) })),
      [],
    );
  });

  test('replicas >= 0', () => {
    assert.deepEqual(problems(deployment({ replicas: -1, selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web' }) })), [
      'spec.replicas: must be at least 0 (got -1)',
    ]);
    assert.deepEqual(problems(deployment({ replicas: '3', selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web' }) })), [
      'spec.replicas: must be an integer (got "3"; remove the quotes)',
    ]);
  });

  test('selector must be present, non-empty and match the template labels', () => {
    assert.deepEqual(problems(deployment({ selector: { matchLabels: { app: 'web' } }, template: template({ app: 'api' }) })), [
      'spec.template.metadata.labels: must match spec.selector: the Deployment would not own the pods it creates',
    ]);
    assert.deepEqual(problems(deployment({ template: template({ app: 'web' }) })), ['spec.selector: required']);
    assert.deepEqual(problems(deployment({ selector: {}, template: template({ app: 'web' }) })), [
      'spec.selector: must not be empty: a Deployment selecting every pod would adopt pods it does not own',
    ]);
    assert.deepEqual(problems(deployment({ selector: { matchExpressions: [{ key: 'app', operator: 'In' }] }, template: template({ app: 'web' }) })), [
      'spec.selector.matchExpressions[0].values: must not be empty for operator In',
    ]);
    // A bad label value is reported once, not again as a selector mismatch.
    assert.deepEqual(problems(deployment({ selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web', v: 1 }) })), [
      'spec.template.metadata.labels.v: must be a string (got 1; quote it if it is meant as text: "1")',
    ]);
  });

  test('template spec is a pod spec that restarts Always', () => {
    assert.deepEqual(problems(deployment({ selector: { matchLabels: { a: 'b' } }, template: template({ a: 'b' }, { restartPolicy: 'Never', containers: [{ name: 'c', command: [1] }] }) })), [
      'spec.template.spec.containers[0].command: must be a list of strings (item 0 is 1; quote it if it is meant as text: "1")',
      'spec.template.spec.restartPolicy: must be one of Always (got "Never")',
    ]);
    assert.deepEqual(problems(deployment({ selector: { matchLabels: { a: 'b' } } })), ['spec.template: required']);
    assert.deepEqual(problems(deployment({ selector: { matchLabels: { a: 'b' } }, template: template({ a: 'b' }), strategy: { type: 'Recreate', rollingUpdate: { maxSurge: '150%' } } })), [
      'spec.strategy.rollingUpdate: must not be set when type is Recreate',
      'spec.strategy.rollingUpdate.maxSurge: must be an integer or a percentage like "25%" (got "150%")',
    ]);
  });
});

describe('Service', () => {
  test('ports: number, protocol, names, targetPort', () => {
    assert.deepEqual(problems(service({ selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 }] })), []);
    assert.deepEqual(problems(service({ ports: [{ port: 80, protocol: 'SCTP' }] })), ['spec.ports[0].protocol: SCTP is not supported by the lab; use TCP or UDP']);
    assert.deepEqual(problems(service({ ports: [{ port: 80 }, { port: 81 }] })), [
      'spec.ports[0].name: required when a Service has more than one port',
      'spec.ports[1].name: required when a Service has more than one port',
    ]);
    assert.deepEqual(problems(service({ ports: [{ name: 'a', port: 80 }, { name: 'a', port: 80 }] })), [
      'spec.ports[1].name: duplicates another port name "a"',
      'spec.ports[1]: duplicates port 80/TCP',
    ]);
    assert.deepEqual(problems(service({ ports: [{ port: 80, targetPort: '8080' }] })), [
      'spec.ports[0].targetPort: must be a port number or the name of a container port; "8080" is a quoted number, write 8080 without quotes',
    ]);
    assert.deepEqual(problems(service({ ports: [{ port: 80, targetPort: 0 }] })), ['spec.ports[0].targetPort: must be between 1 and 65535 (got 0)']);
    assert.deepEqual(problems(service({ ports: [{ port: 80, targetPort: 'Web_Port' }] })).length, 1);
    assert.deepEqual(problems(service({})), ['spec.ports: required']);
    assert.deepEqual(problems(service({ ports: [] })), ['spec.ports: must not be empty']);
  });

  test('types: NodePort and LoadBalancer behave as ClusterIP; ExternalName is refused', () => {
    assert.deepEqual(problems(service({ type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30080 }] })), []);
    assert.deepEqual(problems(service({ type: 'NodePort', ports: [{ port: 80 }] })), []);
    assert.deepEqual(problems(service({ type: 'ExternalName', externalName: 'example.com' })), [
      'spec.type: ExternalName is not supported by the lab (its DNS has no CNAMEs); use a Service with a selector',
      'spec.ports: required',
    ]);
    assert.deepEqual(problems(service({ type: 'clusterip', ports: [{ port: 80 }] })), [
      'spec.type: must be one of ClusterIP, NodePort, LoadBalancer (got "clusterip"; did you mean "ClusterIP"?)',
    ]);
  });

  test('clusterIP: optional, in range, or None for headless', () => {
    assert.deepEqual(problems(service({ clusterIP: '10.96.0.50', ports: [{ port: 80 }] })), []);
    assert.deepEqual(problems(service({ clusterIP: '', ports: [{ port: 80 }] })), []);
    assert.deepEqual(problems(service({ clusterIP: 'None', selector: { app: 'db' } })), []);
    assert.deepEqual(problems(service({ clusterIP: '192.168.0.1', ports: [{ port: 80 }] })), [
      "spec.clusterIP: 192.168.0.1 is outside the lab's Service range 10.96.0.0/16; omit it to have one allocated",
    ]);
    assert.deepEqual(problems(service({ clusterIP: 'auto', ports: [{ port: 80 }] })), [
      'spec.clusterIP: must be an IPv4 address (got "auto"); omit it to have one allocated',
    ]);
    assert.deepEqual(problems(service({ type: 'LoadBalancer', clusterIP: 'None' })), ['spec.clusterIP: None (headless) is not allowed for type LoadBalancer']);
  });

  test('selector values are strings; names are RFC 1035', () => {
    assert.deepEqual(problems(service({ selector: { version: 1 }, ports: [{ port: 80 }] })), [
      'spec.selector.version: must be a string (got 1; quote it if it is meant as text: "1")',
    ]);
    assert.match(problems(service({ ports: [{ port: 80 }] }, '1web'))[0]!, /^metadata\.name: must be an RFC 1035 label/);
  });
});

describe('ConfigMap and Secret', () => {
  test('data values are strings; binary data is base64', () => {
    assert.deepEqual(problems({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'a.conf': 'x', port: 80 }, binaryData: { b: 'aGk=', 'a.conf': 'aGk=' } }), [
      'data.port: must be a string (got 80; quote it if it is meant as text: "80")',
      'binaryData["a.conf"]: duplicates key "a.conf" of data',
    ]);
    assert.deepEqual(problems({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'bad/key': 'x' } }).length, 1);
    assert.deepEqual(problems({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { token: 'not base64!' }, stringData: { token: 'plain' } }), [
      'data.token: must be base64-encoded; put plain text under stringData (Secret) or data (ConfigMap)',
    ]);
    assert.deepEqual(problems({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'Opaque', data: { token: 'aGVsbG8=' } }), []);
  });
});
