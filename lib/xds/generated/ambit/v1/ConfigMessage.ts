// Original file: lib/xds/proto/ambit/v1/mesh_config.proto

import type { Resource as _ambit_v1_Resource, Resource__Output as _ambit_v1_Resource__Output } from '../../ambit/v1/Resource.js';

export interface ConfigMessage {
  'type'?: (string);
  /**
   * Content-derived: the same resource set always has the same version.
   */
  'version'?: (string);
  /**
   * Echoed in the Ack.
   */
  'nonce'?: (string);
  'upserts'?: (_ambit_v1_Resource)[];
  /**
   * Names of resources to drop.
   */
  'removals'?: (string)[];
  /**
   * The upserts are the whole set: drop every resource of this type not among them.
   */
  'fullState'?: (boolean);
}

export interface ConfigMessage__Output {
  'type': (string);
  /**
   * Content-derived: the same resource set always has the same version.
   */
  'version': (string);
  /**
   * Echoed in the Ack.
   */
  'nonce': (string);
  'upserts': (_ambit_v1_Resource__Output)[];
  /**
   * Names of resources to drop.
   */
  'removals': (string)[];
  /**
   * The upserts are the whole set: drop every resource of this type not among them.
   */
  'fullState': (boolean);
}
