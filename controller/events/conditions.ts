import type { EventRecord, ObjectReference } from './types.js';

/**
 * The Events a status write announces, from the conditions before and after
 * it: one per condition whose status or reason changes (a new message alone
 * is not news). The Event's reason is the condition's reason, its action the
 * condition's type, its note the condition's message; Warning when the
 * condition turns bad, Normal when it turns good.
 *
 * Conditions differ in what is news when they first appear: that an object
 * was Accepted, is Enforced or Programmed is worth saying; that a new
 * TrafficPolicy has no conflicts is not (only a recovery from one is). And
 * a Waypoint's proxies are not ready while it starts: Programmed False is a
 * Warning only once it was True. Unknown (an invalid route's references,
 * not resolved) is not news either.
 */

export interface ConditionState {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

interface Announce {
  /** The status that means all is well. */
  good: 'True' | 'False';
  /** A first appearance in the good state is announced (else only a change to it). */
  first?: boolean;
  /** Bad states are only announced after a good one (they are the normal course of starting). */
  quietUntilGood?: boolean;
}

const ANNOUNCE: Readonly<Record<string, Announce>> = {
  Accepted: { good: 'True', first: true },
  Enforced: { good: 'True', first: true },
  Programmed: { good: 'True', first: true, quietUntilGood: true },
  ResolvedRefs: { good: 'True' },
  WaypointAccepted: { good: 'True' },
  Conflicted: { good: 'False' },
};
const OTHER: Announce = { good: 'True' };

/**
 * `context` names what the conditions are about when an object has several
 * sets (a route's parent: "parent Service shop/web port 80").
 */
export function conditionEvents(
  regarding: ObjectReference,
  before: readonly Partial<ConditionState>[],
  after: readonly ConditionState[],
  context?: string,
): EventRecord[] {
  const out: EventRecord[] = [];
  for (const d of after) {
    const a = ANNOUNCE[d.type] ?? OTHER;
    const was = before.find((c) => c?.type === d.type);
    if (d.status === 'Unknown' || (was && was.status === d.status && was.reason === d.reason)) continue;
    const good = d.status === a.good;
    if (good ? !was && !a.first : a.quietUntilGood && was?.status !== a.good) continue;
    out.push({
      regarding,
      type: good ? 'Normal' : 'Warning',
      reason: d.reason,
      action: d.type,
      note: `${d.type} ${d.status}${context ? ` for ${context}` : ''}: ${d.message}`,
    });
  }
  return out;
}
