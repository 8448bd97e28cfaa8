import type { KubeObject } from '../k8s/types.js';
import { checkWorkloadSelector, objectSpec, type WorkloadSelector } from './common.js';
import { childPath } from './field-path.js';
import { field, guarded, type FieldError } from './fields.js';

/**
 * `PeerAuthentication` (ambit.dev/v1alpha1): whether workloads accept
 * plaintext. Scope follows Istio: in the root namespace without a selector it
 * is mesh-wide, elsewhere without a selector it covers the namespace, with a
 * selector it covers those workloads; the narrowest scope wins.
 */

export const MTLS_MODES = ['STRICT', 'PERMISSIVE'] as const;
export type MtlsMode = (typeof MTLS_MODES)[number];

export interface PeerAuthenticationSpec {
  selector?: WorkloadSelector;
  /** Absent: inherit from the wider scope. */
  mtls?: { mode: MtlsMode };
  /** Per-port overrides, keyed by the workload's container port number; only with a selector (as in Istio). */
  portLevelMtls?: Record<string, { mode: MtlsMode }>;
}

export interface PeerAuthentication extends KubeObject {
  kind: 'PeerAuthentication';
  spec?: PeerAuthenticationSpec;
}

const UNSUPPORTED_MODE: Readonly<Record<string, string>> = {
  DISABLE: 'DISABLE is not supported: Ambit always offers mTLS; use PERMISSIVE to also accept plaintext',
  UNSET: 'UNSET is not supported: omit mtls to inherit the mode of the wider scope',
};

export function validatePeerAuthentication(obj: unknown): FieldError[] {
  return guarded('', (f) => {
    const { spec } = objectSpec(f, obj);
    if (!spec) return;
    f.onlyKnown(spec, 'spec', ['selector', 'mtls', 'portLevelMtls']);
    checkWorkloadSelector(f, field(spec, 'selector'), 'spec.selector');
    const checkMode = (v: unknown, path: string): void => {
      const m = f.record(v, path, { required: true });
      if (!m) return;
      f.onlyKnown(m, path, ['mode']);
      const mode = field(m, 'mode');
      if (typeof mode === 'string' && Object.prototype.hasOwnProperty.call(UNSUPPORTED_MODE, mode)) {
        f.add(childPath(path, 'mode'), UNSUPPORTED_MODE[mode]!);
      } else f.oneOf(mode, childPath(path, 'mode'), MTLS_MODES, { required: true });
    };
    if (field(spec, 'mtls') !== undefined) checkMode(field(spec, 'mtls'), 'spec.mtls');
    const ports = f.record(field(spec, 'portLevelMtls'), 'spec.portLevelMtls');
    if (ports) {
      if (field(spec, 'selector') === undefined) f.add('spec.portLevelMtls', 'requires spec.selector: port-level modes apply to selected workloads only');
      for (const [port, mode] of Object.entries(ports)) {
        const p = childPath('spec.portLevelMtls', port);
        const n = /^\d{1,5}$/.test(port) ? Number(port) : NaN;
        if (!(n >= 1 && n <= 65535)) f.add(p, `key must be a port number 1..65535 (got ${JSON.stringify(port)})`);
        checkMode(mode, p);
      }
    }
  });
}
