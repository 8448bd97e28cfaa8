import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AmbitError } from '../errors.js';
import { fromWire, toWire } from './resources.js';
import type { ConfigMessage, ResourceMap, ResourceType } from './types.js';

/**
 * Loading the .proto files at run time. They stay in the source tree
 * (lib/xds/proto/), not in dist/: compiled code lives in dist/lib/xds/, four
 * levels below the repository root, and finds them from there.
 */

const here = fileURLToPath(import.meta.url);

/** Candidate roots: compiled (dist/lib/xds/proto.js) first, then beside the source. */
const CANDIDATES = [resolve(here, '../../../../lib/xds/proto'), resolve(here, '../proto')];
const MARKER = 'ambit/v1/mesh_config.proto';

export const PROTO_FILES = ['ambit/v1/mesh_config.proto', 'ambit/v1/ca.proto'] as const;

/** The folder the imports are relative to (`ambit/v1/...` lives below it). */
export function protoRoot(): string {
  const found = CANDIDATES.find((dir) => existsSync(resolve(dir, MARKER)));
  if (!found) {
    throw new AmbitError('AMBIT_ERR_CONFIG', `cannot find the Ambit .proto files (looked for ${MARKER} in ${CANDIDATES.join(', ')}); is lib/xds/proto shipped beside dist/?`);
  }
  return found;
}

/**
 * The one set of conversion options both ends use: camelCase fields, enums as
 * their names, every field present on decode (empty defaults, `null` for an
 * unset message), and the name of the set oneof member.
 */
export const LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
});

export interface AmbitProtos {
  /** Service definitions, for `server.addService`. */
  meshConfig: grpc.ServiceDefinition;
  meshCa: grpc.ServiceDefinition;
  /** Client constructors. */
  MeshConfigClient: grpc.ServiceClientConstructor;
  MeshCaClient: grpc.ServiceClientConstructor;
}

let cached: AmbitProtos | undefined;

export function loadAmbitProtos(): AmbitProtos {
  if (cached) return cached;
  const def = protoLoader.loadSync([...PROTO_FILES], { ...LOADER_OPTIONS, includeDirs: [protoRoot()] });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { ambit: { v1: { MeshConfig: grpc.ServiceClientConstructor; MeshCA: grpc.ServiceClientConstructor } } };
  const { MeshConfig, MeshCA } = pkg.ambit.v1;
  cached = Object.freeze({ meshConfig: MeshConfig.service, meshCa: MeshCA.service, MeshConfigClient: MeshConfig, MeshCaClient: MeshCA });
  return cached;
}

/**
 * Resources as they would arrive in a push: encoded and decoded with the
 * stream's own message type, so every field is present with its default,
 * enums are names, and what the schema does not know is dropped. For config
 * that did not come over the wire (a local file).
 */
export function asPushed<T extends ResourceType>(type: T, resources: readonly unknown[]): ResourceMap[T][] {
  const stream = loadAmbitProtos().meshConfig['Stream']!;
  const msg: ConfigMessage = { type, version: '', nonce: '', upserts: resources.map((r, i) => toWire(type, String(i), r as ResourceMap[T])), removals: [], fullState: false };
  const back = stream.responseDeserialize(stream.responseSerialize(msg)) as ConfigMessage;
  return back.upserts.map((w, i) => {
    const r = fromWire(type, w);
    if (!r) throw new AmbitError('AMBIT_ERR_CONFIG', `${type} #${i} is not a ${type}`);
    return r;
  });
}
