import { CustomObjectsApi } from '@kubernetes/client-node';
import { AMBIT_API_VERSION, AMBIT_GROUP } from '../../lib/crds/index.js';
import { AMBIT_CRDS_CHECK } from './api-checks.js';
import { condition, type Condition } from '../cluster/kube.js';
import type { Check } from './types.js';

interface WaypointObject {
  metadata?: { name?: string; namespace?: string };
  status?: { conditions?: Condition[] };
}

const waypointsProgrammed: Check = {
  id: 'waypoints-programmed',
  group: 'waypoints',
  scope: 'cluster',
  needs: [AMBIT_CRDS_CHECK.id],
  run: async ({ kc }) => {
    const list = (await kc
      .makeApiClient(CustomObjectsApi)
      .listClusterCustomObject({ group: AMBIT_GROUP, version: AMBIT_API_VERSION.split('/')[1]!, plural: 'waypoints' })) as { items?: WaypointObject[] };
    const items = list.items ?? [];
    if (items.length === 0) return { status: 'pass', message: 'no Waypoints' };
    const bad = items
      .map((w) => ({ name: `${w.metadata?.namespace}/${w.metadata?.name}`, c: condition(w, 'Programmed') }))
      .filter((w) => w.c?.status !== 'True')
      .map((w) => `${w.name}${w.c ? ` (${w.c.reason ?? w.c.status}${w.c.message ? `: ${w.c.message}` : ''})` : ' (no Programmed condition yet)'}`);
    if (bad.length) {
      return { status: 'fail', message: `not Programmed: ${bad.join('; ')}`, hint: 'traffic bound to these waypoints fails until they are: kubectl describe waypoint -n NS NAME, and its Deployment\'s pods' };
    }
    return { status: 'pass', message: `${items.length} Waypoint${items.length === 1 ? '' : 's'} Programmed` };
  },
};

export const WAYPOINT_CHECK = waypointsProgrammed;
