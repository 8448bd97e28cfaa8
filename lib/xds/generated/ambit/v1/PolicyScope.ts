// Original file: lib/xds/proto/ambit/v1/resources.proto

/**
 * Where a policy applies.
 */
export const PolicyScope = {
  /**
   * Every workload in the policy's namespace.
   */
  NAMESPACE: 'NAMESPACE',
  /**
   * Every workload in the mesh (no selector, in the root namespace).
   */
  MESH: 'MESH',
  /**
   * Workloads in the policy's namespace matched by `selector`.
   */
  WORKLOAD_SELECTOR: 'WORKLOAD_SELECTOR',
  /**
   * The Services / Waypoints in `target_refs`: a waypoint enforces it where
   * one serves the target, the node agents where none does (node_agent_services).
   */
  TARGET_REFS: 'TARGET_REFS',
} as const;

/**
 * Where a policy applies.
 */
export type PolicyScope =
  /**
   * Every workload in the policy's namespace.
   */
  | 'NAMESPACE'
  | 0
  /**
   * Every workload in the mesh (no selector, in the root namespace).
   */
  | 'MESH'
  | 1
  /**
   * Workloads in the policy's namespace matched by `selector`.
   */
  | 'WORKLOAD_SELECTOR'
  | 2
  /**
   * The Services / Waypoints in `target_refs`: a waypoint enforces it where
   * one serves the target, the node agents where none does (node_agent_services).
   */
  | 'TARGET_REFS'
  | 3

/**
 * Where a policy applies.
 */
export type PolicyScope__Output = typeof PolicyScope[keyof typeof PolicyScope]
