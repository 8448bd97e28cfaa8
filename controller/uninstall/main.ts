import { AppsV1Api, CoreV1Api, type V1DaemonSet } from '@kubernetes/client-node';
import { parseDuration } from '../../lib/crds/duration.js';
import { AmbitError } from '../../lib/errors.js';
import { kubeConfig } from '../../lib/k8s/client.js';
import { logger } from '../../lib/log.js';
import { prepareAgentsForUninstall } from './detach.js';

/**
 * The chart's pre-delete hook (`args: [uninstall-hook]`): rolls the node agents
 * onto detaching on exit (detach.ts), then deletes the trust-bundle ConfigMap
 * the controller published, which is not part of the release.
 */

const log = logger('uninstall-hook');
const env = (k: string, fallback: string): string => process.env[k] || fallback;
const namespace = env('AMBIT_NAMESPACE', 'ambit-system');
const name = env('AMBIT_NODE_AGENT_DAEMONSET', 'ambit-node-agent');
const configMap = env('AMBIT_ROOT_CA_CONFIGMAP', 'ambit-root-ca');
const timeout = env('AMBIT_UNINSTALL_TIMEOUT', '5m');
const timeoutMs = parseDuration(timeout);

const code = (err: unknown): number | undefined => (err as { code?: number }).code;

try {
  if (timeoutMs === undefined) throw new AmbitError('AMBIT_ERR_CONFIG', `AMBIT_UNINSTALL_TIMEOUT must be a duration like "5m", got ${JSON.stringify(timeout)}`);
  const kc = kubeConfig();
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  await prepareAgentsForUninstall({
    daemonSet: {
      describe: `DaemonSet ${namespace}/${name}`,
      read: async () => {
        try {
          return await apps.readNamespacedDaemonSet({ namespace, name });
        } catch (err) {
          if (code(err) === 404) return undefined;
          throw err;
        }
      },
      replace: (body: V1DaemonSet) => apps.replaceNamespacedDaemonSet({ namespace, name, body }),
    },
    timeoutMs,
    log,
  });
  try {
    await core.deleteNamespacedConfigMap({ namespace, name: configMap });
    log.info({ configMap: `${namespace}/${configMap}` }, 'trust bundle ConfigMap deleted');
  } catch (err) {
    if (code(err) !== 404) throw err;
  }
} catch (err) {
  log.fatal({ code: (err as AmbitError).code ?? 'internal', err: (err as Error).message }, 'preparing the uninstall failed');
  process.exit(1);
}
