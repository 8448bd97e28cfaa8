import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../lib/k8s/types.js';
import { DEFAULT_ROOT_CA_FILE } from '../../lib/identity/index.js';
import { controllerOf, desiredObjects, drift, isWaypointRef, waypointTarget, withDesired } from './objects.js';

const template = {
  image: 'ghcr.io/ambit-mesh/ambit:0.1.0',
  controllerAddress: 'ambit-controller.ambit-system.svc:15010',
  controllerIdentity: 'spiffe://cluster.local/ns/ambit-system/sa/ambit-controller',
  trustDomain: 'cluster.local',
  tokenAudience: 'ambit-controller',
  rootCaConfigMap: 'ambit-root-ca',
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } },
};
const target = { namespace: 'shop', name: 'wp', uid: 'uid-wp', replicas: 2 };
const owner = { apiVersion: 'ambit.dev/v1alpha1', kind: 'Waypoint', name: 'wp', uid: 'uid-wp', controller: true, blockOwnerDeletion: true };
const clone = <T>(x: T): T => structuredClone(x);

describe('the objects of a Waypoint', () => {
  const { ServiceAccount: sa, Deployment: deploy, Service: svc } = desiredObjects(target, template);

  it('are named after it, labelled with it and controlled by it', () => {
    for (const o of [sa, deploy, svc]) {
      assert.deepEqual([o.metadata.name, o.metadata.namespace], ['wp', 'shop']);
      assert.equal(o.metadata.labels?.['ambit.dev/waypoint'], 'wp');
      assert.deepEqual(o.metadata.ownerReferences, [owner]);
    }
    assert.deepEqual([sa.apiVersion, sa.kind, deploy.apiVersion, deploy.kind, svc.apiVersion, svc.kind], ['v1', 'ServiceAccount', 'apps/v1', 'Deployment', 'v1', 'Service']);
  });

  it('a Deployment of uncaptured pods running the waypoint as its service account', () => {
    assert.deepEqual(deploy.spec, {
      replicas: 2,
      selector: { matchLabels: { 'ambit.dev/waypoint': 'wp' } },
      template: {
        metadata: { labels: { 'ambit.dev/waypoint': 'wp', 'ambit.dev/dataplane-mode': 'none' } },
        spec: {
          serviceAccountName: 'wp',
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 30,
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'waypoint',
              image: 'ghcr.io/ambit-mesh/ambit:0.1.0',
              args: ['waypoint'],
              ports: [
                { name: 'hbone', containerPort: 15008, protocol: 'TCP' },
                { name: 'admin', containerPort: 15020, protocol: 'TCP' },
              ],
              readinessProbe: { httpGet: { path: '/ready', port: 15020 } },
              env: [
                { name: 'AMBIT_CONTROLLER_ADDRESS', value: 'ambit-controller.ambit-system.svc:15010' },
                { name: 'AMBIT_CONTROLLER_IDENTITY', value: 'spiffe://cluster.local/ns/ambit-system/sa/ambit-controller' },
                { name: 'AMBIT_TRUST_DOMAIN', value: 'cluster.local' },
                { name: 'AMBIT_WAYPOINT_NAME', value: 'wp' },
                { name: 'AMBIT_POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
                { name: 'AMBIT_POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
                { name: 'AMBIT_NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
                { name: 'AMBIT_POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
                { name: 'AMBIT_CONTROLLER_TOKEN_FILE', value: '/var/run/secrets/ambit/tokens/controller-token' },
                { name: 'AMBIT_ROOT_CA_FILE', value: '/var/run/ambit/root-ca/root-cert.pem' },
              ],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [
                { name: 'controller-token', mountPath: '/var/run/secrets/ambit/tokens', readOnly: true },
                { name: 'root-ca', mountPath: '/var/run/ambit/root-ca', readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'controller-token', projected: { sources: [{ serviceAccountToken: { path: 'controller-token', audience: 'ambit-controller', expirationSeconds: 3600 } }] } },
            { name: 'root-ca', configMap: { name: 'ambit-root-ca' } },
          ],
        },
      },
    });
  });

  it('mounts what the proxy reads where its settings say: the token for the controller and the trust bundle, read-only', () => {
    const pod = (deploy.spec as any).template.spec;
    const c = pod.containers[0];
    const env = new Map<string, string>(c.env.filter((e: { value?: string }) => e.value !== undefined).map((e: { name: string; value: string }) => [e.name, e.value]));
    // Each file the env names lies in a volume mounted read-only at the folder it names.
    const volumeOf = (file: string) => {
      const m = c.volumeMounts.find((x: { mountPath: string }) => file.startsWith(`${x.mountPath}/`));
      assert.ok(m?.readOnly, `${file} is in a read-only mount`);
      return { volume: pod.volumes.find((v: { name: string }) => v.name === m.name), path: file.slice(m.mountPath.length + 1) };
    };
    const token = volumeOf(env.get('AMBIT_CONTROLLER_TOKEN_FILE')!);
    assert.deepEqual(token.volume.projected.sources, [{ serviceAccountToken: { path: token.path, audience: 'ambit-controller', expirationSeconds: 3600 } }]);
    const ca = volumeOf(env.get('AMBIT_ROOT_CA_FILE')!);
    assert.deepEqual([ca.volume.configMap.name, ca.path], ['ambit-root-ca', 'root-cert.pem']);
    // The same names as the agent's: the chart's DaemonSet mounts the same paths.
    assert.equal(env.get('AMBIT_ROOT_CA_FILE'), DEFAULT_ROOT_CA_FILE);

    const other = desiredObjects(target, { ...template, tokenAudience: 'mesh.example', rootCaConfigMap: 'roots', resources: { limits: { cpu: '2' } } }).Deployment as any;
    assert.equal(other.spec.template.spec.volumes[0].projected.sources[0].serviceAccountToken.audience, 'mesh.example');
    assert.equal(other.spec.template.spec.volumes[1].configMap.name, 'roots');
    assert.deepEqual(other.spec.template.spec.containers[0].resources, { limits: { cpu: '2' } });
  });

  it('a ClusterIP Service for HBONE that is never sent through a waypoint itself', () => {
    assert.deepEqual(svc.spec, { type: 'ClusterIP', selector: { 'ambit.dev/waypoint': 'wp' }, ports: [{ name: 'hbone', port: 15008, targetPort: 15008, protocol: 'TCP' }] });
    assert.equal(svc.metadata.labels?.['ambit.dev/use-waypoint'], 'none');
  });

  it("hands the proxies the controller's tracing endpoint, and nothing when it has none", () => {
    const envOf = (d: KubeObject) => ((d.spec as { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } }).template.spec.containers[0]!.env);
    assert.equal(envOf(deploy).find((e) => e.name === 'AMBIT_TRACING_ENDPOINT'), undefined);
    const traced = desiredObjects(target, { ...template, tracing: { endpoint: 'http://otel.obs:4318/v1/traces', samplePercent: 25 } }).Deployment;
    assert.deepEqual(
      envOf(traced).filter((e) => e.name.startsWith('AMBIT_TRACING_')),
      [
        { name: 'AMBIT_TRACING_ENDPOINT', value: 'http://otel.obs:4318/v1/traces' },
        { name: 'AMBIT_TRACING_SAMPLE_PERCENT', value: '25' },
      ],
    );
  });

  it('replicas default to 1', () => {
    assert.equal(waypointTarget({ metadata: { name: 'wp', namespace: 'shop', uid: 'u' }, spec: {} }).replicas, 1);
    assert.equal(waypointTarget({ metadata: { name: 'wp', namespace: 'shop', uid: 'u' }, spec: { replicas: 0 } }).replicas, 0);
  });

  it('ownership: the controlling owner reference, and whether it is a Waypoint', () => {
    assert.deepEqual(controllerOf(deploy), owner);
    assert.equal(isWaypointRef(controllerOf(deploy)), true);
    assert.equal(controllerOf({ metadata: { ownerReferences: [{ ...owner, controller: false }] } }), undefined);
    assert.equal(isWaypointRef({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'u', controller: true }), false);
  });
});

describe('drift', () => {
  const { Deployment: deploy, Service: svc } = desiredObjects(target, template);
  /** The Deployment as a real API server returns it: defaults filled in, a status, another label. */
  const served = (): KubeObject => {
    const d = clone(deploy) as KubeObject & { spec: any };
    d.metadata = { ...d.metadata, uid: 'd-uid', resourceVersion: '7', generation: 1, labels: { ...d.metadata.labels, team: 'payments' } };
    d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
    d.spec.revisionHistoryLimit = 10;
    const c = d.spec.template.spec.containers[0];
    c.imagePullPolicy = 'IfNotPresent';
    c.terminationMessagePath = '/dev/termination-log';
    c.readinessProbe = { ...c.readinessProbe, httpGet: { ...c.readinessProbe.httpGet, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1 };
    d.spec.template.spec.restartPolicy = 'Always';
    for (const v of d.spec.template.spec.volumes) (v.projected ?? v.configMap).defaultMode = 420;
    d.status = { replicas: 2, readyReplicas: 1 };
    return d;
  };

  it('ignores what the API server defaults and what others add beside the controlled fields', () => {
    assert.deepEqual(drift(deploy, served()), []);
    assert.deepEqual(drift(deploy, deploy), []);
  });

  it('names each field someone changed', () => {
    const d = served() as any;
    d.spec.replicas = 5;
    d.spec.template.spec.containers[0].image = 'evil:latest';
    delete d.metadata.labels['ambit.dev/waypoint'];
    assert.deepEqual(drift(deploy, d), ['metadata.labels.ambit.dev/waypoint', 'spec.replicas', 'spec.template.spec.containers[0].image']);
    const more = served() as any;
    more.spec.template.spec.containers.push({ name: 'sidecar', image: 'x' });
    more.spec.template.spec.containers[0].env.pop();
    assert.deepEqual(drift(deploy, more), ['spec.template.spec.containers']);
  });

  it('holds selectors to exactly the desired keys', () => {
    const s = clone(svc) as any;
    s.spec.selector = { ...s.spec.selector, app: 'other' };
    assert.deepEqual(drift(svc, s), ['spec.selector']);
    const d = served() as any;
    d.spec.selector.matchLabels.extra = 'x';
    assert.deepEqual(drift(deploy, d), ['spec.selector.matchLabels']);
  });

  it('withDesired puts the controlled fields back and keeps the rest', () => {
    const d = served() as any;
    d.spec.replicas = 5;
    d.spec.selector.matchLabels.extra = 'x';
    d.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'keep', uid: 'cm', controller: false }];
    const next = withDesired(d, deploy) as any;
    assert.deepEqual(drift(deploy, next), []);
    assert.equal(next.spec.replicas, 2);
    assert.deepEqual(next.spec.selector, { matchLabels: { 'ambit.dev/waypoint': 'wp' } });
    assert.equal(next.spec.revisionHistoryLimit, 10, 'defaults kept');
    assert.equal(next.metadata.resourceVersion, '7', 'a concurrent change makes the write a 409');
    assert.equal(next.metadata.labels.team, 'payments');
    assert.deepEqual(next.metadata.ownerReferences.map((r: { uid: string }) => r.uid), ['uid-wp', 'cm']);
    const service = withDesired({ ...clone(svc), spec: { ...(svc.spec as object), clusterIP: '10.96.0.9', ports: [] } } as KubeObject, svc) as any;
    assert.equal(service.spec.clusterIP, '10.96.0.9', 'the allocated ClusterIP stays');
    assert.equal(service.spec.ports.length, 1);
  });
});
