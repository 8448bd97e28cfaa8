export * from './labels.js';
export { isMeshed, namespaceInMesh } from './membership.js';
