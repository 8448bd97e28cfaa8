/** Label names and values fixed by SPEC.md; users and scripts rely on them. */
export const DATAPLANE_MODE_LABEL = 'ambit.dev/dataplane-mode';
export const DATAPLANE_MODE_AMBIENT = 'ambient';
export const DATAPLANE_MODE_NONE = 'none';
export const USE_WAYPOINT_LABEL = 'ambit.dev/use-waypoint';
export const TRUST_DOMAIN_DEFAULT = 'cluster.local';
