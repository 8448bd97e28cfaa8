import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AmbitError } from '../../lib/errors.js';
import { checkManifestText, formatIssue, manifestOrigin, ManifestError, parseManifestText } from './index.js';

const APP = `# a small app
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  namespace: ignored
  labels:
    ambit.dev/dataplane-mode: ambient
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, version: "1"}
    spec:
      serviceAccount: web
      containers:
      - name: web
        command: [python3, -m, http.server, "8080"]
        ports:
        - {containerPort: 8080, name: http}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: http
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
---
apiVersion: ambit.dev/v1alpha1
kind: Waypoint
metadata: {name: waypoint, namespace: shop}
spec: {for: service}
---
apiVersion: ambit.dev/v1alpha1
kind: AuthorizationPolicy
metadata: {name: web-viewers, namespace: shop}
spec:
  targetRefs: [{kind: Service, group: "", name: web}]
  action: ALLOW
  rules:
  - from: [{source: {principals: [cluster.local/ns/shop/sa/frontend]}}]
    to: [{operation: {methods: [GET]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: web, port: 80}]
  rules:
  - backendRefs: [{name: web, port: 80}]
---
`;

function issueLines(text: string, source = 'app.yaml'): string[] {
  return checkManifestText(text, source).issues.map(formatIssue);
}

describe('parseManifestText', () => {
  test('reads every supported document in order and applies defaults', () => {
    const objects = parseManifestText(APP, 'examples/app.yaml');
    assert.deepEqual(
      objects.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`),
      ['Namespace /shop', 'Deployment shop/web', 'Service shop/web', 'ServiceAccount shop/web', 'Waypoint shop/waypoint', 'AuthorizationPolicy shop/web-viewers', 'HTTPRoute shop/web'],
    );
    const [ns, deploy, svc] = objects as [any, any, any];
    assert.equal('namespace' in ns.metadata, false, 'Namespace is cluster-scoped');
    assert.equal(deploy.spec.replicas, 1);
    assert.equal(deploy.spec.template.spec.serviceAccountName, 'web', 'taken from the deprecated serviceAccount');
    assert.equal(deploy.spec.template.spec.restartPolicy, 'Always');
    assert.equal(deploy.spec.template.spec.containers[0].ports[0].protocol, 'TCP');
    assert.deepEqual(svc.spec.ports, [{ port: 80, targetPort: 'http', protocol: 'TCP' }]);
    assert.equal(svc.spec.type, 'ClusterIP');
  });

  test('namespaced objects default to "default"', () => {
    const [pod] = parseManifestText('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n', 'p.yaml') as [any];
    assert.equal(pod.metadata.namespace, 'default');
    assert.equal(pod.spec.serviceAccountName, 'default');
  });

  test('errors name file, document, object, field and line', () => {
    const text = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        command: python3 -m http.server
`;
    assert.throws(
      () => parseManifestText(text, 'examples/app.yaml'),
      (err: unknown) => {
        assert.ok(err instanceof ManifestError);
        assert.ok(err instanceof AmbitError);
        assert.equal(err.code, 'AMBIT_ERR_MANIFEST');
        assert.equal(
          err.message,
          'examples/app.yaml: document 2 (Deployment default/web): spec.template.spec.containers[0].command: must be a list (got "python3 -m http.server") (line 16)',
        );
        assert.deepEqual(err.issues, [
          {
            source: 'examples/app.yaml',
            document: 2,
            object: 'Deployment default/web',
            path: 'spec.template.spec.containers[0].command',
            message: 'must be a list (got "python3 -m http.server")',
            line: 16,
          },
        ]);
        return true;
      },
    );
  });

  test('collects every error of every document, top to bottom', () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: Bad_Name}
spec:
  containers:
  - name: c
    args: [--port, 8080]
    env:
    - {name: PORT, value: 8080}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: team-a}
spec:
  ports: [{port: 70000}]
`;
    const lines = issueLines(text, 'bad.yaml');
    assert.deepEqual(lines, [
      'bad.yaml: document 1 (Pod default/Bad_Name): metadata.name: must be a DNS-1123 subdomain: lower-case letters, digits, \'-\' and \'.\', starting and ending with a letter or digit (got "Bad_Name") (line 3)',
      'bad.yaml: document 1 (Pod default/Bad_Name): spec.containers[0].args: must be a list of strings (item 1 is 8080; quote it if it is meant as text: "8080") (line 7)',
      'bad.yaml: document 1 (Pod default/Bad_Name): spec.containers[0].env[0].value: must be a string (got 8080; quote it if it is meant as text: "8080") (line 9)',
      'bad.yaml: document 2 (Service team-a/svc): spec.ports[0].port: must be between 1 and 65535 (got 70000) (line 15)',
    ]);
    assert.throws(() => parseManifestText(text, 'bad.yaml'), /^ManifestError: 4 problems in the manifests:\n {2}bad\.yaml: document 1/);
  });

  test('valid objects come back even when others are invalid (checkManifestText)', () => {
    const text = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: NOT_OK}\n';
    const { objects, issues } = checkManifestText(text, 'x.yaml');
    assert.deepEqual(objects.map((o) => o.metadata.name), ['ok']);
    assert.equal(issues.length, 1);
  });

  test('kind: List and typed lists', () => {
    const text = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: a}
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: B}
- 42
- {apiVersion: v1, kind: List, items: []}
`;
    assert.deepEqual(issueLines(text, 'list.yaml'), [
      'list.yaml: document 1 (ServiceAccount default/B): items[1].metadata.name: must be a DNS-1123 subdomain: lower-case letters, digits, \'-\' and \'.\', starting and ending with a letter or digit (got "B") (line 9)',
      'list.yaml: document 1: items[2]: must be a Kubernetes object, a mapping with apiVersion, kind and metadata (got 42) (line 10)',
      'list.yaml: document 1 (List): items[3]: a List inside a List is not supported (line 11)',
    ]);
    const ok = parseManifestText('apiVersion: v1\nkind: ServiceAccountList\nitems:\n- {apiVersion: v1, kind: ServiceAccount, metadata: {name: a}}\n', 'l.yaml');
    assert.equal(ok.length, 1);
    assert.deepEqual(manifestOrigin(ok[0]!), { source: 'l.yaml', document: 1, path: 'items[0]', line: 4 });
    assert.deepEqual(issueLines('apiVersion: v1\nkind: List\nitems: {}\n', 'l.yaml'), ['l.yaml: document 1 (List): items: must be a list of objects (got a mapping) (line 3)']);
  });

  test('unknown kinds and wrong apiVersions', () => {
    assert.deepEqual(issueLines('apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\n'), [
      'app.yaml: document 1 (StatefulSet db): kind: "StatefulSet" is not supported by the lab; supported kinds: Namespace, Pod, Deployment, Service, ServiceAccount, ConfigMap, Secret, Waypoint, AuthorizationPolicy, PeerAuthentication, TrafficPolicy, HTTPRoute, GRPCRoute (line 2)',
    ]);
    assert.deepEqual(issueLines('apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: web}\n'), [
      'app.yaml: document 1 (Deployment default/web): apiVersion: Deployment must be apps/v1 (got "extensions/v1beta1") (line 1)',
    ]);
    assert.deepEqual(issueLines('kind: Service\nmetadata: {name: web}\n'), ['app.yaml: document 1 (Service default/web): apiVersion: required (Service is v1) (line 1)']);
    assert.deepEqual(issueLines('apiVersion: v1\nmetadata: {name: x}\n'), ['app.yaml: document 1 (<no kind> x): kind: required (line 1)']);
    assert.deepEqual(issueLines('apiVersion: v1\nkind: Namespace\n'), ['app.yaml: document 1 (Namespace <no name>): metadata: required (line 1)']);
    assert.deepEqual(issueLines('apiVersion: v1\nkind: Namespace\nmetadata: {generateName: x-}\n'), [
      'app.yaml: document 1 (Namespace <no name>): metadata.name: required (generateName is not supported by the lab; give the object a name) (line 3)',
    ]);
  });

  test('CRD errors come from lib/crds with their full paths', () => {
    const text = `apiVersion: ambit.dev/v1alpha1
kind: PeerAuthentication
metadata: {name: default, namespace: ambit-system}
spec:
  mtls:
    mode: strict
`;
    assert.deepEqual(issueLines(text, 'pa.yaml'), [
      'pa.yaml: document 1 (PeerAuthentication ambit-system/default): spec.mtls.mode: must be one of STRICT, PERMISSIVE (got "strict"; did you mean "STRICT"?) (line 6)',
    ]);
    // The target namespace rule sees the defaulted namespace.
    const ap = 'apiVersion: ambit.dev/v1alpha1\nkind: AuthorizationPolicy\nmetadata: {name: p}\nspec:\n  targetRefs: [{kind: Service, name: a, namespace: other}]\n';
    assert.match(issueLines(ap)[0]!, /spec\.targetRefs\[0\]\.namespace: must be the policy's own namespace "default"/);
    assert.match(issueLines('apiVersion: ambit.dev/v1alpha1\nkind: Waypoint\nmetadata: {name: 1wp}\n')[0]!, /metadata\.name: must be an RFC 1035 label/);
  });

  test('YAML syntax errors carry a line; later documents are still read', () => {
    const text = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkey: [unclosed\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: Bad}\n';
    const lines = issueLines(text, 's.yaml');
    assert.equal(lines.length >= 2, true);
    assert.match(lines[0]!, /^s\.yaml: document 2: YAML syntax error: .+ \(line \d+\)$/);
    assert.match(lines.at(-1)!, /^s\.yaml: document 3 \(Namespace Bad\): metadata\.name: /);
    assert.match(issueLines('a: 1\na: 2\n')[0]!, /document 1: YAML syntax error: Map keys must be unique/);
  });

  test('JSON, including tab-indented JSON that YAML refuses', () => {
    const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: 'b' } };
    assert.equal(parseManifestText(JSON.stringify(obj), 'c.json').length, 1);
    assert.equal(parseManifestText(JSON.stringify(obj, null, '\t'), 'c.json').length, 1);
    assert.match(issueLines('{"apiVersion": "v1", "kind": ', 'c.json')[0]!, /^c\.json: document 1: YAML syntax error/);
  });

  test('empty documents and comments are skipped; top-level lists are explained', () => {
    assert.deepEqual(parseManifestText('', 'e.yaml'), []);
    assert.deepEqual(parseManifestText('# nothing\n---\n---\n', 'e.yaml'), []);
    assert.match(issueLines('- a\n- b\n')[0]!, /got a list; put several objects in separate documents \(---\) or in a "kind: List"/);
    assert.match(issueLines('just a string\n')[0]!, /must be a Kubernetes object/);
  });

  test('duplicates are reported against the first definition', () => {
    const text = 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: default}\n';
    const { objects, issues } = checkManifestText(text, 'd.yaml');
    assert.equal(objects.length, 1);
    assert.deepEqual(issues.map(formatIssue), [
      'd.yaml: document 2 (ServiceAccount default/a): metadata.name: the same object is already defined at d.yaml: document 1 (line 5)',
    ]);
  });

  test('merge keys and anchors work; alias bombs are refused', () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata:\n  base: &b x\n  copy: *b\n';
    assert.equal((parseManifestText(text, 'm.yaml')[0] as any).data.copy, 'x');
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) bomb.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`);
    const lines = issueLines(bomb.join('\n'));
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /document 1: /);
  });
});
