export { authorize, denialReason, principalNamespace, type ConnectionAttributes, type Decision, type PolicyRef, type RequestAttributes } from './evaluate.js';
export { inIpBlocks, inPorts, matchesAny, matchesPattern, matchesPrincipal } from './matchers.js';
export { acceptsPlaintextSomewhere, modeOnPort, workloadMtls, type EffectiveMode, type WorkloadMtls } from './mtls.js';
export { coversWorkload, isEndpointOf, type ScopedPolicy } from './scope.js';
