export { authorize, type ConnectionAttributes, type Decision, type PolicyRef, type RequestAttributes } from './evaluate.js';
export { inIpBlocks, inPorts, matchesAny, matchesPattern, matchesPrincipal } from './matchers.js';
