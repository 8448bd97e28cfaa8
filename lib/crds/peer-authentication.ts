import type { KubeObject } from '../k8s/types.js';
import { AMBIT_API_VERSION, SELECTOR_HINTS, type WorkloadSelector } from './common.js';
import type { FieldError } from './fields.js';
import { validateCustomResource } from './schema.js';

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

/** Istio's modes that Ambit rejects on purpose, and what to write instead. */
const UNSUPPORTED_MODE: Readonly<Record<string, string>> = {
  DISABLE: 'DISABLE is not supported: Ambit always offers mTLS; use PERMISSIVE to also accept plaintext',
  UNSET: 'UNSET is not supported: omit mtls to inherit the mode of the wider scope',
};

/** Its CRD schema says it all (charts/ambit/crds/peerauthentications.ambit.dev.yaml), with Istio's other modes explained. */
export function validatePeerAuthentication(obj: unknown): FieldError[] {
  return validateCustomResource(AMBIT_API_VERSION, 'PeerAuthentication', obj, {
    hints: {
      ...SELECTOR_HINTS,
      mode: (i) => (i.keyword === 'enum' && typeof i.value === 'string' && Object.prototype.hasOwnProperty.call(UNSUPPORTED_MODE, i.value) ? UNSUPPORTED_MODE[i.value] : undefined),
    },
  });
}
