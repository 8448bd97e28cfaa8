import { field, isRecord, type Rec } from '../../lib/crds/index.js';

/**
 * The defaults the API server would fill in and the lab relies on, applied to
 * a validated copy so that consumers never have to repeat them:
 *
 * - `metadata.namespace`: `default` for namespaced kinds; dropped for Namespace.
 * - Pod specs (Pods and Deployment templates): `serviceAccountName` from the
 *   deprecated `serviceAccount` or `default`; `restartPolicy: Always`;
 *   container port `protocol: TCP`.
 * - Deployment: `replicas: 1`.
 * - Service: `type: ClusterIP`; port `protocol: TCP`; `targetPort` = `port`.
 *
 * CRD fields are not defaulted here; their defaults are documented (and
 * exported) with their types in lib/crds, because the controller sees objects
 * that never went through the lab.
 */

export const DEFAULT_NAMESPACE = 'default';

function each(v: unknown, fn: (r: Rec) => void): void {
  if (Array.isArray(v)) for (const item of v) if (isRecord(item)) fn(item);
}

export function defaultPodSpec(spec: unknown): void {
  if (!isRecord(spec)) return;
  if (field(spec, 'serviceAccountName') === undefined) {
    const legacy = field(spec, 'serviceAccount');
    spec['serviceAccountName'] = typeof legacy === 'string' ? legacy : 'default';
  }
  if (field(spec, 'restartPolicy') === undefined) spec['restartPolicy'] = 'Always';
  for (const key of ['initContainers', 'containers']) {
    each(field(spec, key), (c) => each(field(c, 'ports'), (p) => {
      if (field(p, 'protocol') === undefined) p['protocol'] = 'TCP';
    }));
  }
}

/** Mutates `obj`, which must be the loader's private copy. */
export function applyDefaults(obj: Rec, namespaced: boolean): void {
  const meta = field(obj, 'metadata') as Rec;
  if (namespaced) {
    if (field(meta, 'namespace') === undefined || field(meta, 'namespace') === '') meta['namespace'] = DEFAULT_NAMESPACE;
  } else delete meta['namespace'];

  const spec = field(obj, 'spec');
  switch (field(obj, 'kind')) {
    case 'Pod':
      defaultPodSpec(spec);
      break;
    case 'Deployment':
      if (isRecord(spec)) {
        if (field(spec, 'replicas') === undefined) spec['replicas'] = 1;
        const template = field(spec, 'template');
        if (isRecord(template)) defaultPodSpec(field(template, 'spec'));
      }
      break;
    case 'Service':
      if (isRecord(spec)) {
        if (field(spec, 'type') === undefined) spec['type'] = 'ClusterIP';
        each(field(spec, 'ports'), (p) => {
          if (field(p, 'protocol') === undefined) p['protocol'] = 'TCP';
          if (field(p, 'targetPort') === undefined) p['targetPort'] = field(p, 'port');
        });
      }
      break;
  }
}
