/**
 * Fault injection for requests to a Service: Envoy's HTTP fault filter as
 * Istio's VirtualService fault configures it. A request is delayed with
 * probability delayPercentage/100, and, independently, aborted with
 * abortStatus with probability abortPercentage/100; one that is both waits
 * first, then gets the abort (as Envoy does). One random draw for the delay,
 * then one for the abort; a fault with no delay (or no abort) draws nothing for it.
 *
 * Percentages are 0..100 with fractions; 0 means 0% (the CRD's omitted
 * percentage, 100, has to be written into the proto by the controller: reading
 * 0 as "unset, so 100%" would inject faults into every request of a policy
 * that asked for none). Values below 0 act as 0, above 100 as 100. Envoy's fault
 * headers (x-envoy-fault-*) and max_active_faults are not supported.
 */
import type { Fault } from '../../lib/xds/index.js';
import type { Random } from './types.js';

/** What to do to one request; 0 means no such fault. */
export interface FaultDecision {
  readonly delayMs: number;
  readonly abortStatus: number;
}

export const NO_FAULT: FaultDecision = Object.freeze({ delayMs: 0, abortStatus: 0 });

/** True with probability percent/100: never at 0 (or below), always at 100 (or above), as random() < 1. */
const chance = (percent: number, random: Random): boolean => random() * 100 < percent;

export function decideFault(fault: Fault | null | undefined, random: Random = Math.random): FaultDecision {
  if (!fault) return NO_FAULT;
  const delayMs = fault.delayMs > 0 && chance(fault.delayPercentage, random) ? fault.delayMs : 0;
  const abortStatus = fault.abortStatus > 0 && chance(fault.abortPercentage, random) ? fault.abortStatus : 0;
  return delayMs === 0 && abortStatus === 0 ? NO_FAULT : { delayMs, abortStatus };
}
