import { AMBIT_CRDS_CHECK, API_SERVER_CHECK, GATEWAY_API_CHECK } from './api-checks.js';
import { AGENT_CHECKS } from './agent-checks.js';
import { CONTROL_PLANE_CHECKS } from './control-plane-checks.js';
import { describeError } from '../cluster/kube.js';
import { NODE_CHECKS } from './node-checks.js';
import { PERMISSIONS_CHECK } from './permission-checks.js';
import { TRUST_CHECK } from './trust-checks.js';
import type { Check, CheckContext, CheckResult, Mode, Outcome, Report, Status, Target } from './types.js';
import { WAYPOINT_CHECK } from './waypoint-checks.js';

/** Which checks each mode runs, in the order they print. */
export function plan(mode: Mode): readonly Check[] {
  return mode === 'pre'
    ? [...NODE_CHECKS, API_SERVER_CHECK, GATEWAY_API_CHECK, PERMISSIONS_CHECK]
    : [API_SERVER_CHECK, AMBIT_CRDS_CHECK, GATEWAY_API_CHECK, ...CONTROL_PLANE_CHECKS, TRUST_CHECK, ...AGENT_CHECKS, WAYPOINT_CHECK];
}

/** A check that has not answered by then fails (a black-holed API server would otherwise hang the command). */
export const CHECK_TIMEOUT_MS = 15_000;

/**
 * Runs checks one after another (later ones read what earlier ones found:
 * nothing is asked of an API server that did not answer). A check that
 * throws fails with the error, so one broken check never hides the others.
 */
export async function runChecks(checks: readonly Check[], ctx: CheckContext, timeoutMs = CHECK_TIMEOUT_MS): Promise<CheckResult[]> {
  const done = new Map<string, CheckResult>();
  for (const check of checks) {
    const blocking = (check.needs ?? []).map((id) => done.get(id)).filter((r): r is CheckResult => r !== undefined && (r.status === 'fail' || r.status === 'skip'));
    const outcome: Outcome = blocking.length
      ? { status: 'skip', message: `not checked: ${blocking.map((b) => `${b.id} ${b.status === 'fail' ? 'failed' : 'did not apply'}`).join(', ')}` }
      : await runOne(check, ctx, timeoutMs);
    done.set(check.id, { id: check.id, group: check.group, scope: check.scope, ...outcome });
  }
  return [...done.values()];
}

async function runOne(check: Check, ctx: CheckContext, timeoutMs: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome>((resolve) => {
    timer = setTimeout(
      () => resolve({ status: 'fail', message: `no answer within ${timeoutMs / 1000}s`, hint: 'the API server or an admin port is slow or unreachable from here' }),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      Promise.resolve().then(() => check.run(ctx)),
      timeout,
    ]);
  } catch (err) {
    return { status: 'fail', message: `the check could not finish: ${describeError(err)}`, hint: 'an API call was refused or failed; if the message does not say why, report it as a bug' };
  } finally {
    clearTimeout(timer);
  }
}

export function summarize(mode: Mode, target: Target, namespace: string, checks: CheckResult[]): Report {
  const summary: Record<Status, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) summary[c.status]++;
  return { mode, target, namespace, checks, summary, ok: summary.fail === 0 };
}
