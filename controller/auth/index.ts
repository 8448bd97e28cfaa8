/** Agent authentication, shared by the config stream and the CA. */
export type { AgentIdentity, Authenticator, WaypointProxy } from './authenticator.js';
export { StaticTokenAuthenticator } from './static.js';
export { EXTRA_NODE_NAME, EXTRA_POD_NAME, EXTRA_POD_UID, TokenReviewAuthenticator, kubeTokenReviewer, type TokenReviewer, type TokenReviewAuthenticatorOptions } from './token-review.js';
export { GuardedAuthenticator, type GuardOptions } from './guard.js';
export { EitherAuthenticator } from './either.js';
