import { AppsV1Api } from '@kubernetes/client-node';
import { API_SERVER } from './api-checks.js';
import { apiStatus, CHART, condition } from '../cluster/kube.js';
import type { Check, CheckContext, Outcome } from './types.js';

const GROUP = 'control-plane';

/**
 * The lab does not (yet) boot from the chart: it runs the controller and the
 * agents as processes, so there is no Deployment or DaemonSet to read. When
 * one exists (a lab booted with --chart, some day), it is checked as in a
 * cluster; when it does not, the check does not apply rather than fail.
 */
export function notFromChart(ctx: CheckContext, what: string): Outcome | undefined {
  return ctx.target.kind === 'lab' ? { status: 'skip', message: `lab ${ctx.target.name} runs the ${what} as processes, not from the chart: no object to check ('ambit lab status' lists them)` } : undefined;
}

const controllerDeployment: Check = {
  id: 'controller-deployment',
  group: GROUP,
  scope: 'cluster',
  needs: [API_SERVER],
  run: async (ctx) => {
    const { kc, namespace } = ctx;
    let d;
    try {
      d = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: CHART.controller, namespace });
    } catch (err) {
      if (apiStatus(err) !== 404) throw err;
      return (
        notFromChart(ctx, 'controller') ?? {
          status: 'fail',
          message: `no Deployment ${CHART.controller} in ${namespace}`,
          hint: `install the chart (helm install ambit charts/ambit -n ${namespace} --create-namespace), or pass -n with the namespace it is in`,
        }
      );
    }
    const want = d.spec?.replicas ?? 1;
    const available = d.status?.availableReplicas ?? 0;
    const hint = `kubectl -n ${namespace} describe deployment/${CHART.controller}; kubectl -n ${namespace} logs deployment/${CHART.controller}`;
    const availableCond = condition(d, 'Available');
    if (availableCond?.status !== 'True' || available === 0) {
      return { status: 'fail', message: `Deployment ${CHART.controller}: ${available} of ${want} replicas available${availableCond?.message ? ` (${availableCond.message})` : ''}`, hint };
    }
    if (available < want) return { status: 'warn', message: `Deployment ${CHART.controller}: ${available} of ${want} replicas available (serving, without a spare)`, hint };
    return { status: 'pass', message: `Deployment ${CHART.controller}: ${available} of ${want} replicas available` };
  },
};

/** The admin server's own 503 body starts so (lib/admin.ts); anything else came from the path to it. */
const OWN_NOT_READY = /^not ready \(pid/;

const controllerReady: Check = {
  id: 'controller-ready',
  group: GROUP,
  scope: 'cluster',
  needs: [API_SERVER],
  run: async ({ mesh }) => {
    const controllers = await mesh.controllers();
    if (controllers.length === 0) {
      return {
        status: 'fail',
        message: mesh.kind === 'lab' ? 'no controller process is running in the lab' : `no running controller pod (label ${CHART.nameLabel}=${CHART.controller})`,
        hint: mesh.kind === 'lab' ? 'ambit lab restart controller' : `kubectl -n <namespace> get pods -l ${CHART.nameLabel}=${CHART.controller}`,
      };
    }
    const notReady: string[] = [];
    const unreachable: string[] = [];
    for (const c of controllers) {
      const r = await c.get('/ready').catch((err: unknown) => ({ status: 0, body: err instanceof Error ? err.message : String(err) }));
      if (r.status === 200) continue;
      if (OWN_NOT_READY.test(r.body)) notReady.push(`${c.name}: ${r.body.trim()}`);
      else unreachable.push(`${c.name} (${r.status ? `HTTP ${r.status}: ` : ''}${r.body.trim().slice(0, 160)})`);
    }
    if (notReady.length) return { status: 'fail', message: notReady.join('; '), hint: 'the reason names what the controller waits for; its log says why (kubectl logs, or ambit lab status for the lab log)' };
    if (unreachable.length) {
      return { status: 'warn', message: `cannot read /ready on port ${CHART.adminPort} of ${unreachable.join(', ')}`, hint: `read it by hand: ${mesh.byHand('/ready')}` };
    }
    return { status: 'pass', message: `${controllers.length} controller${controllers.length > 1 ? 's' : ''} ready on ${CHART.adminPort} (${controllers.map((c) => c.name).join(', ')})` };
  },
};

export const CONTROL_PLANE_CHECKS: readonly Check[] = [controllerDeployment, controllerReady];
