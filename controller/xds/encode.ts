import { loadAmbitProtos } from '../../lib/xds/proto.js';
import { toWire } from '../../lib/xds/resources.js';
import type { ConfigMessage, ResourceMap, ResourceType } from '../../lib/xds/types.js';

/**
 * ConfigMessages encoded from resources that were each encoded once. A
 * message is its header fields followed by one `upserts` field per
 * resource; protobuf lets a message's fields come in any order and repeated
 * fields be written one by one, so the bytes of an upsert can be computed
 * once per resource version and shared by every agent that is sent it. The
 * agents decode the same ConfigMessage as before: nothing on the wire changes.
 */

type Serialize = (msg: Partial<ConfigMessage>) => Buffer;

const serialize = (): Serialize => loadAmbitProtos().meshConfig.Stream!.responseSerialize as Serialize;

/** The bytes of one `upserts` entry (field tag, length, Resource). */
export function encodeUpsert<T extends ResourceType>(type: T, name: string, r: ResourceMap[T]): Buffer {
  return serialize()({ upserts: [toWire(type, name, r)] });
}

/** A whole ConfigMessage: the header, then the upserts already encoded. */
export function encodeConfigMessage(head: Omit<ConfigMessage, 'upserts'>, upserts: readonly Buffer[]): Buffer {
  return Buffer.concat([serialize()(head), ...upserts]);
}

/** The MeshConfig service definition with its responses already encoded: the server writes the Buffers as they are. */
export function preEncodedMeshConfig(): ReturnType<typeof loadAmbitProtos>['meshConfig'] {
  const def = loadAmbitProtos().meshConfig;
  return { ...def, Stream: { ...def.Stream!, responseSerialize: (b: Buffer) => b } };
}
