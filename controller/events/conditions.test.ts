import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conditionEvents, type ConditionState } from './conditions.js';
import type { ObjectReference } from './types.js';

const ref: ObjectReference = { apiVersion: 'ambit.dev/v1alpha1', kind: 'TrafficPolicy', namespace: 'shop', name: 'lb', uid: 'u' };
const c = (type: string, status: ConditionState['status'], reason: string, message = `${type} says ${reason}`): ConditionState => ({ type, status, reason, message });
/** type/reason/action of each Event, for short assertions. */
const brief = (before: ConditionState[], after: ConditionState[]) => conditionEvents(ref, before, after).map((e) => `${e.type} ${e.reason} (${e.action})`);

describe('conditionEvents', () => {
  it('announces a rejection as a Warning with the message, and the fix as Normal', () => {
    const invalid = c('Accepted', 'False', 'Invalid', 'Rejected: spec.action must be ALLOW or DENY. Nothing of it is enforced.');
    const [warning] = conditionEvents(ref, [], [invalid]);
    assert.deepEqual(warning, { regarding: ref, type: 'Warning', reason: 'Invalid', action: 'Accepted', note: 'Accepted False: Rejected: spec.action must be ALLOW or DENY. Nothing of it is enforced.' });
    assert.deepEqual(brief([invalid], [c('Accepted', 'True', 'Accepted')]), ['Normal Accepted (Accepted)']);
  });

  it('says nothing when only the message (or nothing) changed', () => {
    assert.deepEqual(brief([c('Enforced', 'True', 'NodeAgents', 'on 2 pods')], [c('Enforced', 'True', 'NodeAgents', 'on 3 pods')]), []);
  });

  it('announces a change of reason within the same status', () => {
    assert.deepEqual(brief([c('Enforced', 'True', 'NodeAgents')], [c('Enforced', 'True', 'Waypoint')]), ['Normal Waypoint (Enforced)']);
    assert.deepEqual(brief([c('Enforced', 'False', 'NotEnforced')], [c('Enforced', 'False', 'PartiallyEnforced')]), ['Warning PartiallyEnforced (Enforced)']);
  });

  it('a new policy: Accepted is news, the absence of conflicts and resolved references are not; their problems are', () => {
    const fine = [c('Accepted', 'True', 'Accepted'), c('ResolvedRefs', 'True', 'ResolvedRefs'), c('Conflicted', 'False', 'NoConflicts')];
    assert.deepEqual(brief([], fine), ['Normal Accepted (Accepted)']);
    const troubled = [c('Accepted', 'True', 'Accepted'), c('ResolvedRefs', 'False', 'ServiceNotFound'), c('Conflicted', 'True', 'OlderPolicyWins')];
    assert.deepEqual(brief([], troubled), ['Normal Accepted (Accepted)', 'Warning ServiceNotFound (ResolvedRefs)', 'Warning OlderPolicyWins (Conflicted)']);
    assert.deepEqual(brief(troubled, fine), ['Normal ResolvedRefs (ResolvedRefs)', 'Normal NoConflicts (Conflicted)']);
  });

  it('a Waypoint starting is not a Warning; losing its ready proxies is', () => {
    const pending = c('Programmed', 'False', 'Pending');
    const waiting = c('Programmed', 'False', 'NoReadyProxies');
    const ready = c('Programmed', 'True', 'Programmed');
    assert.deepEqual(brief([], [pending]), []);
    assert.deepEqual(brief([pending], [waiting]), []);
    assert.deepEqual(brief([waiting], [ready]), ['Normal Programmed (Programmed)']);
    assert.deepEqual(brief([ready], [waiting]), ['Warning NoReadyProxies (Programmed)']);
  });

  it('Unknown is not news', () => {
    assert.deepEqual(brief([], [c('ResolvedRefs', 'Unknown', 'Pending')]), []);
    assert.deepEqual(brief([c('ResolvedRefs', 'Unknown', 'Pending')], [c('ResolvedRefs', 'False', 'BackendNotFound')]), ['Warning BackendNotFound (ResolvedRefs)']);
  });

  it('names the parent of a route\'s conditions in the note', () => {
    const [e] = conditionEvents(ref, [], [c('Accepted', 'False', 'NoMatchingParent', 'Service shop/web not found.')], 'parent Service shop/web port 80');
    assert.equal(e!.note, 'Accepted False for parent Service shop/web port 80: Service shop/web not found.');
  });
});
