/**
 * The cluster the controller benchmark runs against, written into the lab's
 * object store: nodes, namespaces (most in the mesh), Services with two pods
 * each and their EndpointSlices, pods spread over the nodes at random (a
 * seeded generator, so every run builds the same cluster), and policies of
 * every scope. Then the changes: one per call, cycling through the kinds a
 * cluster sees, each returning the API writes it made.
 */
import type { ObjectStore, StoreEvent } from '../../lab/apiserver/index.js';
import { CONTROLLER_NAMESPACE, authorizationPolicy, createPod, createService, namespace, peerAuthentication, syncEndpointSlices } from '../../controller/fixtures.js';
import { DATAPLANE_MODE_AMBIENT, DATAPLANE_MODE_LABEL } from '../../lib/mesh/index.js';

export interface Shape {
  nodes: number;
  namespaces: number;
  services: number;
  pods: number;
  seed: number;
}

export const CHANGE_KINDS = ['pod-add', 'endpoints', 'pod-move', 'policy-add', 'pod-delete', 'service-add', 'policy-change', 'namespace-flip'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** One API write: the model kind it feeds and the store's resourceVersion after it. */
export interface Write {
  kind: string;
  rv: number;
}

/** The model kind (controller/model/kinds.ts) of each store resource the changes write. */
const KIND_OF: Record<string, string> = {
  pods: 'Pod',
  services: 'Service',
  endpointslices: 'EndpointSlice',
  namespaces: 'Namespace',
  nodes: 'Node',
  authorizationpolicies: 'AuthorizationPolicy',
  peerauthentications: 'PeerAuthentication',
};

/** mulberry32: small, fast, and the same sequence for the same seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number, width = 3) => String(n).padStart(width, '0');
export const nodeName = (i: number) => `node-${pad(i)}`;
/** The token each node's agent authenticates with (the controller's AMBIT_AGENT_TOKENS). */
export const agentToken = (node: string) => `token-${node}`;
const nsName = (i: number) => `ns-${pad(i)}`;
/** One namespace in five stays out of the mesh. */
const meshedAtStart = (i: number) => i % 5 !== 4;
const dotted = (base: number, n: number) => `${base}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

interface PodRef {
  namespace: string;
  name: string;
  app: string;
}

export class Cluster {
  private readonly rand: () => number;
  private ips = 0;
  private clusterIps = 0;
  private readonly original: PodRef[] = [];
  private readonly added: PodRef[] = [];
  private serial = 0;
  private next = 0;

  constructor(
    private readonly store: ObjectStore,
    readonly shape: Shape,
  ) {
    this.rand = random(shape.seed);
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rand() * list.length)]!;
  }

  private node(): string {
    return nodeName(Math.floor(this.rand() * this.shape.nodes));
  }

  private pod(ref: PodRef, node: string): void {
    createPod(this.store, ref.name, { namespace: ref.namespace, node, ip: dotted(10, ++this.ips + 65536), serviceAccount: ref.app, labels: { app: ref.app }, ports: [{ name: 'http', containerPort: 8080 }] });
  }

  private service(ns: string, name: string, app: string): void {
    createService(this.store, name, { namespace: ns, clusterIP: dotted(10, (96 << 16) + ++this.clusterIps), selector: { app }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] });
  }

  populate(): void {
    const { store, shape } = this;
    store.create('namespaces', namespace(CONTROLLER_NAMESPACE));
    for (let n = 0; n < shape.nodes; n++) {
      store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName(n) } });
      store.patch('nodes', undefined, nodeName(n), { status: { addresses: [{ type: 'InternalIP', address: dotted(10, (200 << 16) + n + 10) }] } }, 'merge', { subresource: 'status' });
    }
    const servicesPerNs = Math.max(1, Math.round(shape.services / shape.namespaces));
    const podsPerService = Math.max(1, Math.round(shape.pods / shape.services));
    for (let i = 0; i < shape.namespaces; i++) {
      const ns = nsName(i);
      store.create('namespaces', namespace(ns, meshedAtStart(i) ? { [DATAPLANE_MODE_LABEL]: DATAPLANE_MODE_AMBIENT } : {}));
      for (let s = 0; s < servicesPerNs; s++) {
        const app = `svc-${s}`;
        this.service(ns, app, app);
        for (let p = 0; p < podsPerService; p++) {
          const ref = { namespace: ns, name: `${app}-${p}`, app };
          this.pod(ref, this.node());
          this.original.push(ref);
        }
        syncEndpointSlices(store, ns, app);
      }
      if (!meshedAtStart(i)) continue;
      // Per namespace in the mesh: namespace-wide, selector and Service-targeted policies; some PeerAuthentications.
      store.create('authorizationpolicies', authorizationPolicy('ns-allow', { rules: [{ from: [{ source: { namespaces: [ns, nsName((i + 1) % shape.namespaces)] } }] }] }, ns));
      store.create('authorizationpolicies', authorizationPolicy('deny-svc-0', { selector: { matchLabels: { app: 'svc-0' } }, action: 'DENY', rules: [{ from: [{ source: { notNamespaces: [ns] } }], to: [{ operation: { ports: ['9090'] } }] }] }, ns));
      store.create('authorizationpolicies', authorizationPolicy('allow-svc-1', { targetRefs: [{ kind: 'Service', name: 'svc-1' }], rules: [{ from: [{ source: { namespaces: [ns] } }] }] }, ns));
      if (i % 4 === 0) store.create('peerauthentications', peerAuthentication('permissive', { mtls: { mode: 'PERMISSIVE' } }, ns));
      if (i % 3 === 0) store.create('peerauthentications', peerAuthentication('svc-2-port', { selector: { matchLabels: { app: 'svc-2' } }, portLevelMtls: { 8081: { mode: 'PERMISSIVE' } } }, ns));
    }
    store.create('authorizationpolicies', authorizationPolicy('mesh-deny-legacy', { action: 'DENY', rules: [{ from: [{ source: { namespaces: ['legacy'] } }] }] }, CONTROLLER_NAMESPACE));
    store.create('peerauthentications', peerAuthentication('mesh-strict', { mtls: { mode: 'STRICT' } }, CONTROLLER_NAMESPACE));
  }

  /** Makes the next change; returns what it was and the writes it made. */
  change(): { kind: ChangeKind; what: string; writes: Write[] } {
    const kind = CHANGE_KINDS[this.next++ % CHANGE_KINDS.length]!;
    const writes: Write[] = [];
    const unsubscribe = this.store.subscribe((e: StoreEvent) => {
      const k = KIND_OF[e.resource.plural];
      if (k) writes.push({ kind: k, rv: e.resourceVersion });
    });
    try {
      return { kind, what: this.make(kind), writes };
    } finally {
      unsubscribe();
    }
  }

  private make(kind: ChangeKind): string {
    const { store } = this;
    const n = ++this.serial;
    switch (kind) {
      case 'pod-add': {
        const base = this.pick(this.original);
        const ref = { namespace: base.namespace, name: `extra-${n}`, app: base.app };
        const node = this.node();
        this.pod(ref, node);
        syncEndpointSlices(store, ref.namespace, ref.app);
        this.added.push(ref);
        return `${ref.namespace}/${ref.name} on ${node}, endpoint of ${ref.app}`;
      }
      case 'pod-delete': {
        const ref = this.added.pop() ?? this.pick(this.original);
        store.delete('pods', ref.namespace, ref.name);
        syncEndpointSlices(store, ref.namespace, ref.app);
        return `${ref.namespace}/${ref.name}`;
      }
      case 'pod-move': {
        // A pod that a selector policy covers: its old node loses the policy (unless another pod keeps it), the new one gains it.
        const ref = this.pick(this.original.filter((p) => p.app === 'svc-0'));
        const from = store.get('pods', ref.namespace, ref.name).spec as { nodeName: string };
        store.delete('pods', ref.namespace, ref.name);
        const node = this.node();
        this.pod(ref, node);
        syncEndpointSlices(store, ref.namespace, ref.app);
        return `${ref.namespace}/${ref.name} ${from.nodeName} -> ${node}`;
      }
      case 'endpoints': {
        // A readiness flip: the pod's Ready condition, then its EndpointSlice.
        const ref = this.pick(this.original);
        const pod = store.get('pods', ref.namespace, ref.name);
        const ready = (pod.status as { conditions?: { type: string; status: string }[] }).conditions?.find((c) => c.type === 'Ready')?.status === 'True';
        store.patch('pods', ref.namespace, ref.name, { status: { conditions: [{ type: 'Ready', status: ready ? 'False' : 'True' }] } }, 'merge', { subresource: 'status' });
        syncEndpointSlices(store, ref.namespace, ref.app);
        return `${ref.namespace}/${ref.name} ready=${!ready}`;
      }
      case 'service-add': {
        const base = this.pick(this.original);
        const name = `added-${n}`;
        this.service(base.namespace, name, base.app);
        syncEndpointSlices(store, base.namespace, name);
        return `${base.namespace}/${name} selecting ${base.app}`;
      }
      case 'policy-add': {
        const ns = this.pick(this.original).namespace;
        const name = `added-${n}`;
        const variant = n % 4;
        if (variant === 3) {
          store.create('peerauthentications', peerAuthentication(name, { selector: { matchLabels: { app: 'svc-3' } }, mtls: { mode: 'STRICT' } }, ns));
          return `PeerAuthentication ${ns}/${name} (selector)`;
        }
        const specs = [
          { selector: { matchLabels: { app: 'svc-4' } }, rules: [{ from: [{ source: { namespaces: [ns] } }] }] },
          { action: 'AUDIT', rules: [{ to: [{ operation: { ports: ['8080'] } }] }] },
          { targetRefs: [{ kind: 'Service', name: 'svc-5' }], action: 'DENY', rules: [{ from: [{ source: { ipBlocks: ['192.0.2.0/24'] } }] }] },
        ];
        store.create('authorizationpolicies', authorizationPolicy(name, specs[variant], ns));
        return `AuthorizationPolicy ${ns}/${name} (${['selector', 'namespace-wide', 'Service-targeted'][variant]})`;
      }
      case 'policy-change': {
        const ns = this.pick(this.original.filter((p) => meshedAtStart(Number(p.namespace.slice(3))))).namespace;
        const p = store.get('authorizationpolicies', ns, 'ns-allow');
        const spec = p.spec as { rules: { from: { source: { namespaces: string[] } }[] }[] };
        spec.rules[0]!.from[0]!.source.namespaces.push(`extra-${n}`);
        store.replace('authorizationpolicies', p);
        return `AuthorizationPolicy ${ns}/ns-allow (one more source namespace)`;
      }
      case 'namespace-flip': {
        const ns = this.pick(this.original).namespace;
        const labels = store.get('namespaces', undefined, ns).metadata.labels ?? {};
        const meshed = labels[DATAPLANE_MODE_LABEL] === DATAPLANE_MODE_AMBIENT;
        store.patch('namespaces', undefined, ns, { metadata: { labels: { [DATAPLANE_MODE_LABEL]: meshed ? null : DATAPLANE_MODE_AMBIENT } } }, 'merge');
        return `${ns} ${meshed ? 'leaves' : 'joins'} the mesh`;
      }
    }
  }
}
