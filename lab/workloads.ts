/**
 * What the Kubernetes controllers and scheduler would do, for the lab, as
 * pure functions over objects: Deployments to Pods (workloads/deployment.ts),
 * Pods to nodes (workloads/scheduling.ts), Services and Pods to Endpoints and
 * EndpointSlices (workloads/endpoints.ts). Randomness is injectable.
 */

export { planDeployment, POD_TEMPLATE_HASH_LABEL, type DeploymentPlan, type DeploymentPlanOptions } from './workloads/deployment.js';
export { HOSTNAME_LABEL, schedulePod, schedulePods } from './workloads/scheduling.js';
export {
  computeAllEndpoints,
  computeEndpoints,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  resolveTargetPort,
  SERVICE_NAME_LABEL,
  type EndpointPort,
  type EndpointsResult,
  type ServicePort,
} from './workloads/endpoints.js';
export { containerPorts, isPodFinished, isPodReady, podIp, podNodeName, type ContainerPort } from './workloads/pods.js';
export { NAME_ALPHABET, stableUid, templateHash, type Random } from './workloads/names.js';
