import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelSelectorFromObject, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { isApiError } from './status.js';

const labels = { app: 'web', tier: 'front', 'ambit.dev/dataplane-mode': 'ambient', n: '7' };

describe('label selectors', () => {
  const cases: [string, boolean][] = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app in (web,db)', true],
    ['app in ( db , cache )', false],
    ['app notin (db)', true],
    ['app notin (web)', false],
    ['missing notin (x)', true],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['ambit.dev/dataplane-mode=ambient', true],
    ['app in (web),!missing,tier', true],
    ['n>5', true],
    ['n<5', false],
    ['  app = web  ,  tier  ', true],
    ['empty=', false],
  ];
  for (const [text, want] of cases) {
    it(`"${text}" ${want ? 'matches' : 'does not match'}`, () => {
      assert.equal(parseLabelSelector(text).matches(labels), want);
    });
  }

  it('matches an empty value against a label with an empty value', () => {
    assert.equal(parseLabelSelector('e=').matches({ e: '' }), true);
  });

  for (const bad of ['app in web', 'app in (web', 'a b', '=x', 'app=(x)', 'app in ()', '-bad=x', 'app=web,', 'UPPER.example.com/x=y', 'n>x', 'app ~ web']) {
    it(`rejects "${bad}" with a 400 that quotes it`, () => {
      assert.throws(
        () => parseLabelSelector(bad),
        (err: unknown) => isApiError(err, 'BadRequest') && err.httpStatus === 400 && err.message.includes(JSON.stringify(bad)),
      );
    });
  }

  it('converts metav1.LabelSelector objects', () => {
    const sel = labelSelectorFromObject({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }, { key: 'x', operator: 'DoesNotExist' }] });
    assert.equal(sel.matches(labels), true);
    assert.equal(sel.matches({ app: 'web' }), false);
    assert.equal(labelSelectorFromObject({}).matches({}), true, 'empty selector selects everything');
    assert.equal(labelSelectorFromObject(undefined).matches({}), false, 'missing selector selects nothing');
    assert.throws(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Near' }] }), /unknown operator/);
  });
});

describe('field selectors', () => {
  const pod = { metadata: { name: 'p1', namespace: 'default' }, spec: { nodeName: 'node-1', replicas: 3 }, status: { phase: 'Running' } };
  const cases: [string, boolean][] = [
    ['', true],
    ['metadata.name=p1', true],
    ['metadata.name==p1', true],
    ['metadata.name!=p1', false],
    ['metadata.namespace=default,spec.nodeName=node-1', true],
    ['spec.nodeName=node-2', false],
    ['status.phase!=Pending', true],
    ['spec.replicas=3', true],
    ['spec.missing=', true],
    ['spec.missing!=', false],
  ];
  for (const [text, want] of cases) {
    it(`"${text}" ${want ? 'matches' : 'does not match'}`, () => {
      assert.equal(parseFieldSelector(text).matches(pod), want);
    });
  }

  it('unescapes \\, in values', () => {
    assert.equal(parseFieldSelector('metadata.name=a\\,b').matches({ metadata: { name: 'a,b' } }), true);
  });

  for (const bad of ['metadata.name', 'metadata..name=x', '=x', 'spec.nodeName~x']) {
    it(`rejects "${bad}" with a 400`, () => {
      assert.throws(() => parseFieldSelector(bad), (err: unknown) => isApiError(err, 'BadRequest') && err.message.includes('invalid field selector'));
    });
  }
});
