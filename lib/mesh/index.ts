export * from './labels.js';
export { isMeshed } from './membership.js';
