// Original file: lib/xds/proto/ambit/v1/resources.proto

/**
 * How a client proxy picks an endpoint of a Service, as the TrafficPolicy
 * targeting the Service says (ROUND_ROBIN when none does).
 */
export const LoadBalancerPolicy = {
  /**
   * Each ready endpoint in turn.
   */
  ROUND_ROBIN: 'ROUND_ROBIN',
  /**
   * The endpoint with the fewest connections open through this proxy.
   */
  LEAST_REQUEST: 'LEAST_REQUEST',
  /**
   * By a hash of the request header lb_hash_header: L7, a waypoint's job;
   * node agents balance such a Service ROUND_ROBIN.
   */
  CONSISTENT_HASH: 'CONSISTENT_HASH',
} as const;

/**
 * How a client proxy picks an endpoint of a Service, as the TrafficPolicy
 * targeting the Service says (ROUND_ROBIN when none does).
 */
export type LoadBalancerPolicy =
  /**
   * Each ready endpoint in turn.
   */
  | 'ROUND_ROBIN'
  | 0
  /**
   * The endpoint with the fewest connections open through this proxy.
   */
  | 'LEAST_REQUEST'
  | 1
  /**
   * By a hash of the request header lb_hash_header: L7, a waypoint's job;
   * node agents balance such a Service ROUND_ROBIN.
   */
  | 'CONSISTENT_HASH'
  | 2

/**
 * How a client proxy picks an endpoint of a Service, as the TrafficPolicy
 * targeting the Service says (ROUND_ROBIN when none does).
 */
export type LoadBalancerPolicy__Output = typeof LoadBalancerPolicy[keyof typeof LoadBalancerPolicy]
