import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../lib/k8s/types.js';
import { automountsToken, containerArgv, containerEnv, containerMounts, expandRefs, fieldRefValue, KUBE_API_ACCESS_PATH, volumeContent, type DataLookup } from './pod-inputs.js';

const pod = (spec: object, extra: object = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u-1', labels: { app: 'a' } }, spec: { nodeName: 'node1', serviceAccountName: 'sa', ...spec }, status: { hostIP: '10.0.0.1', podIP: '10.1.0.2' }, ...extra }) as KubeObject;
const lookup: DataLookup = {
  configMap: (ns, name) => (ns === 'ns' && name === 'cm' ? { 'root-cert.pem': 'PEM', level: 'debug' } : undefined),
  secret: (ns, name) => (ns === 'ns' && name === 's' ? { password: 'hunter2' } : undefined),
};
const value = <T>(r: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!r.ok) assert.fail(r.error);
  return r.value;
};

describe('container env (as the kubelet builds it)', () => {
  it('resolves the downward API', () => {
    const p = pod({});
    assert.equal(value(fieldRefValue(p, 'metadata.name')), 'p');
    assert.equal(value(fieldRefValue(p, 'metadata.namespace')), 'ns');
    assert.equal(value(fieldRefValue(p, 'spec.nodeName')), 'node1');
    assert.equal(value(fieldRefValue(p, 'status.hostIP')), '10.0.0.1');
    assert.equal(value(fieldRefValue(p, "metadata.labels['app']")), 'a');
    assert.equal(fieldRefValue(p, 'spec.bogus').ok, false);
  });

  it('takes values, fieldRefs, ConfigMap and Secret keys and envFrom in order, expanding $(VAR)', () => {
    const c = {
      name: 'c',
      envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }],
      env: [
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'cm', key: 'level' } } },
        { name: 'PASS', valueFrom: { secretKeyRef: { name: 's', key: 'password' } } },
        { name: 'ADDR', value: '$(NODE):15010 $$(NODE) $(UNSET)' },
        { name: 'MAYBE', valueFrom: { configMapKeyRef: { name: 'gone', key: 'x', optional: true } } },
      ],
    };
    const env = value(containerEnv(pod({}), c, lookup, { KUBERNETES_SERVICE_HOST: '10.200.0.1' }));
    assert.equal(env.KUBERNETES_SERVICE_HOST, '10.200.0.1');
    assert.equal(env.CM_level, 'debug');
    assert.equal(env.NODE, 'node1');
    assert.equal(env.LEVEL, 'debug');
    assert.equal(env.PASS, 'hunter2');
    assert.equal(env.ADDR, 'node1:15010 $(NODE) $(UNSET)');
    assert.ok(!('MAYBE' in env));
  });

  it('fails (the pod waits) on a missing ConfigMap or key, as CreateContainerConfigError', () => {
    const missing = containerEnv(pod({}), { name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k' } } }] }, lookup);
    assert.deepEqual(missing, { ok: false, error: 'env X: configmap "gone" not found' });
    const noKey = containerEnv(pod({}), { name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } }] }, lookup);
    assert.deepEqual(noKey, { ok: false, error: "env X: couldn't find key k in ConfigMap cm" });
  });
});

describe('container argv', () => {
  it('runs the image entrypoint with args, or command instead of it', () => {
    const entry = ['node', 'bin/ambit-component'];
    assert.deepEqual(containerArgv({ name: 'c', args: ['controller'] }, entry, {}), ['node', 'bin/ambit-component', 'controller']);
    assert.deepEqual(containerArgv({ name: 'c', command: ['sh', '-c'], args: ['echo $(X)'] }, entry, { X: '1' }), ['sh', '-c', 'echo 1']);
    assert.equal(expandRefs('$(A)$(B)', { A: 'x' }), 'x$(B)');
  });
});

describe('volumes and mounts', () => {
  const volumes = [
    { name: 'root-ca', configMap: { name: 'cm' } },
    { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'controller-token', audience: 'ambit-controller', expirationSeconds: 3600 } }] } },
    { name: 'tmp', emptyDir: {} },
    { name: 'bpf', hostPath: { path: '/sys/fs/bpf', type: 'Directory' } },
  ];

  it('mounts each volume at its path, parents first, plus the API token unless automount is off', () => {
    const p = pod({ volumes });
    const c = { name: 'c', volumeMounts: [{ name: 'tok', mountPath: '/var/run/secrets/ambit/tokens', readOnly: true }, { name: 'tmp', mountPath: '/tmp' }] };
    const mounts = value(containerMounts(p, c, true));
    assert.deepEqual(mounts.map((m) => m.mountPath), ['/tmp', '/var/run/secrets/ambit/tokens', KUBE_API_ACCESS_PATH]);
    assert.equal(value(containerMounts(p, c, false)).length, 2);
    assert.equal(containerMounts(p, { name: 'c', volumeMounts: [{ name: 'nope', mountPath: '/x' }] }, false).ok, false);
  });

  it("follows the pod's automountServiceAccountToken over its ServiceAccount's", () => {
    const sa = { metadata: { name: 'sa' }, automountServiceAccountToken: false } as unknown as KubeObject;
    assert.equal(automountsToken(pod({}), sa), false);
    assert.equal(automountsToken(pod({ automountServiceAccountToken: true }), sa), true);
    assert.equal(automountsToken(pod({}), undefined), true);
  });

  it('holds ConfigMap keys as files, tokens with their audience, hostPaths as paths', () => {
    const p = pod({ volumes });
    assert.deepEqual(value(volumeContent(p, 'root-ca', lookup, 'CA')), {
      kind: 'files',
      files: [
        { path: 'root-cert.pem', content: 'PEM', mode: 0o644 },
        { path: 'level', content: 'debug', mode: 0o644 },
      ],
    });
    assert.deepEqual(value(volumeContent(p, 'tok', lookup, 'CA')), { kind: 'files', files: [{ path: 'controller-token', token: { audience: 'ambit-controller', expirationSeconds: 3600 }, mode: 0o600 }] });
    assert.deepEqual(value(volumeContent(p, 'bpf', lookup, 'CA')), { kind: 'hostPath', path: '/sys/fs/bpf' });
    const api = value(volumeContent(p, 'kube-api-access', lookup, 'CA'));
    assert.ok(api.kind === 'files' && api.files.some((f) => f.path === 'ca.crt' && 'content' in f && f.content === 'CA'));
    assert.equal(volumeContent(pod({ volumes: [{ name: 'x', configMap: { name: 'gone' } }] }), 'x', lookup, 'CA').ok, false);
    assert.equal(value(volumeContent(pod({ volumes: [{ name: 'x', configMap: { name: 'gone', optional: true } }] }), 'x', lookup, 'CA')).kind, 'files');
  });
});
