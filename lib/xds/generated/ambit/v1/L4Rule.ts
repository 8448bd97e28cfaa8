// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { L4Source as _ambit_v1_L4Source, L4Source__Output as _ambit_v1_L4Source__Output } from '../../ambit/v1/L4Source.js';
import type { L4Operation as _ambit_v1_L4Operation, L4Operation__Output as _ambit_v1_L4Operation__Output } from '../../ambit/v1/L4Operation.js';
import type { L4Condition as _ambit_v1_L4Condition, L4Condition__Output as _ambit_v1_L4Condition__Output } from '../../ambit/v1/L4Condition.js';

/**
 * A rule matches when any `from`, any `to` and every `when` and `l7_when`
 * match (an empty list matches anything). has_l7: the rule has L7 fields
 * (methods, paths, hosts in `to`, request.* conditions in `l7_when`). A
 * waypoint checks them against each HTTP request. Enforced at L4 (a node
 * agent, or a waypoint on a connection that is not HTTP) it fails closed, as
 * ztunnel does: an ALLOW rule with L7 fields matches nothing; a DENY rule
 * matches on its L4 parts alone.
 */
export interface L4Rule {
  'from'?: (_ambit_v1_L4Source)[];
  'to'?: (_ambit_v1_L4Operation)[];
  'when'?: (_ambit_v1_L4Condition)[];
  'hasL7'?: (boolean);
  'l7When'?: (_ambit_v1_L4Condition)[];
}

/**
 * A rule matches when any `from`, any `to` and every `when` and `l7_when`
 * match (an empty list matches anything). has_l7: the rule has L7 fields
 * (methods, paths, hosts in `to`, request.* conditions in `l7_when`). A
 * waypoint checks them against each HTTP request. Enforced at L4 (a node
 * agent, or a waypoint on a connection that is not HTTP) it fails closed, as
 * ztunnel does: an ALLOW rule with L7 fields matches nothing; a DENY rule
 * matches on its L4 parts alone.
 */
export interface L4Rule__Output {
  'from': (_ambit_v1_L4Source__Output)[];
  'to': (_ambit_v1_L4Operation__Output)[];
  'when': (_ambit_v1_L4Condition__Output)[];
  'hasL7': (boolean);
  'l7When': (_ambit_v1_L4Condition__Output)[];
}
