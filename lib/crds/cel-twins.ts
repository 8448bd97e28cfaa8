import type { PathSegment } from './field-path.js';

/**
 * The CRDs' CEL rules (x-kubernetes-validations) in JavaScript. No CEL engine
 * runs in Node, so each rule has a twin here, found by the rule's exact text;
 * a rule without one fails the schema compile (schema.ts), so whoever adds a
 * rule to a CRD adds its twin and a test sample with it.
 *
 * A twin gets `self`, the value at the rule's place, only once the schema
 * there accepts it (its type and fields are as declared), so it need not
 * guard against junk. It returns true when the rule holds, false when it does
 * not, or, for rules over every key or item, `{ at }` naming the first one
 * that breaks it, so the error points at that entry.
 */

export type CelOutcome = boolean | { readonly at: PathSegment };
export type CelTwin = (self: any) => CelOutcome;

const QUALIFIED_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** `self.all(k, ok(k))` over a map's keys. */
const everyKey =
  (ok: (k: string) => boolean): CelTwin =>
  (self: Record<string, unknown>) => {
    const bad = Object.keys(self).find((k) => !ok(k));
    return bad === undefined || { at: bad };
  };

export const CEL_TWINS: Readonly<Record<string, CelTwin>> = {
  '!(has(self.targetRefs) && has(self.selector))': (s) => !(s.targetRefs !== undefined && s.selector !== undefined),
  'self.all(a, self.exists_one(b, b.kind == a.kind && b.name == a.name))': (s: { kind?: unknown; name?: unknown }[]) => {
    const repeat = s.findIndex((a, i) => s.findIndex((b) => b.kind === a.kind && b.name === a.name) !== i);
    return repeat === -1 || { at: repeat };
  },
  "!has(self.group) || (self.kind == 'Service' ? self.group in ['', 'core'] : self.group == 'ambit.dev')": (s) =>
    s.group === undefined || (s.kind === 'Service' ? ['', 'core'].includes(s.group) : s.group === 'ambit.dev'),
  "self.all(k, k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$') && k.size() <= 317)": everyKey(
    (k) => QUALIFIED_KEY.test(k) && k.length <= 317,
  ),
  '!has(self.portLevelMtls) || has(self.selector)': (s) => s.portLevelMtls === undefined || s.selector !== undefined,
  "self.all(k, k.matches('^[0-9]{1,5}$') && int(k) >= 1 && int(k) <= 65535)": everyKey((k) => /^[0-9]{1,5}$/.test(k) && Number(k) >= 1 && Number(k) <= 65535),
  "self.type == 'ConsistentHash' ? has(self.consistentHash) : !has(self.consistentHash)": (s) => (s.type === 'ConsistentHash' ? s.consistentHash !== undefined : s.consistentHash === undefined),
};
