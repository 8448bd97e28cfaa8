import type { MtlsMode, PeerAuthentication } from '../xds/types.js';
import { coversWorkload } from './scope.js';

export type EffectiveMode = Exclude<MtlsMode, 'UNSET'>;

/** A workload's mTLS modes: one for the workload, and the ports that override it. */
export interface WorkloadMtls {
  mode: EffectiveMode;
  ports: ReadonlyMap<number, EffectiveMode>;
  /** The PeerAuthentication (`namespace/name`) that set `mode`; undefined: none did (the PERMISSIVE default). */
  modeFrom: string | undefined;
  /** Per port in `ports`, the PeerAuthentication that set it. */
  portsFrom: ReadonlyMap<number, string>;
}

const RANK: Readonly<Record<PeerAuthentication['scope'], number>> = { WORKLOAD_SELECTOR: 0, NAMESPACE: 1, MESH: 2, TARGET_REFS: 3 };

/**
 * Resolves the PeerAuthentications that cover a workload, with Istio's
 * precedence: the narrowest scope that sets a mode wins (selector over
 * namespace over mesh-wide; PERMISSIVE when none does), and a port-level
 * mode (`portLevelMtls`, keyed by the workload's own port) overrides it on
 * that port, again from the narrowest policy that sets it. Among policies of
 * one scope the first by `namespace/name` wins, so the answer is the same on
 * every node.
 */
export function workloadMtls(policies: Iterable<PeerAuthentication>, w: { namespace: string; labels: Readonly<Record<string, string>> }): WorkloadMtls {
  const covering = [...policies]
    .filter((p) => coversWorkload(p, w))
    .sort((a, b) => RANK[a.scope] - RANK[b.scope] || `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  const decider = covering.find((p) => p.mode !== 'UNSET');
  const ports = new Map<number, EffectiveMode>();
  const portsFrom = new Map<number, string>();
  for (const p of covering) {
    for (const { port, mode: m } of p.portLevelMtls) {
      if (m === 'UNSET' || ports.has(port)) continue;
      ports.set(port, m);
      portsFrom.set(port, `${p.namespace}/${p.name}`);
    }
  }
  // Who decided is kept beside the answer, so `ambit policy explain` names it without a second precedence rule.
  return { mode: decider?.mode === 'STRICT' ? 'STRICT' : 'PERMISSIVE', ports, modeFrom: decider && `${decider.namespace}/${decider.name}`, portsFrom };
}

/** The mode on one of the workload's ports. */
export function modeOnPort(m: WorkloadMtls, port: number): EffectiveMode {
  return m.ports.get(port) ?? m.mode;
}

/** Whether any port of the workload accepts plaintext. */
export function acceptsPlaintextSomewhere(m: WorkloadMtls): boolean {
  return m.mode === 'PERMISSIVE' || [...m.ports.values()].includes('PERMISSIVE');
}
