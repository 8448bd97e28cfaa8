/**
 * Ordinary Kubernetes YAML to the lab's cluster state: reading, validation
 * (core kinds here, Ambit CRDs and routes through lib/crds) and the API
 * server's defaults. Pure apart from reading the manifest files.
 */

export { checkManifests, listManifestFiles, loadManifests } from './load.js';
export { checkManifestText, describeOrigin, manifestOrigin, parseManifestText, type ManifestCheck, type ManifestOrigin } from './parse.js';
export { formatIssue, ManifestError, type ManifestIssue } from './issue.js';
export { findKindRule, KIND_RULES, SUPPORTED_KINDS, type KindRule } from './kinds.js';
export { DEFAULT_NAMESPACE } from './defaults.js';
export { DATAPLANE_MODE_LABEL, USE_WAYPOINT_LABEL } from './metadata.js';
