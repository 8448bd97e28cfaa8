import type { Logger } from '../lib/log.js';
import {
  connectMeshConfig,
  controllerChannel,
  createMeshCaClient,
  type ControlPlaneSecurity,
  type MeshCaClient,
  type MeshConfigConnection,
  type TokenSource,
  type UpdateHandler,
} from '../lib/xds/index.js';

export interface CaLinkOptions {
  /** `host:port` of 15010. */
  address: string;
  security: ControlPlaneSecurity;
  /** The agent's bearer token; gRPC sends it only over a channel that passed `security`. */
  token: TokenSource | undefined;
}

export interface ControllerLinkOptions extends CaLinkOptions {
  nodeName: string;
  onUpdate: UpdateHandler;
  log: Logger;
}

/** The agent's client of the controller's CA alone (its config comes from elsewhere: a local file). */
export interface CaLink {
  readonly ca: MeshCaClient;
  /** How the channel is secured, for logs and `/config_dump`. */
  readonly describe: string;
  stop(): Promise<void>;
}

/** The agent's two clients of the controller, on one channel configuration. */
export interface ControllerLink extends CaLink {
  readonly xds: MeshConfigConnection;
}

export function connectCa(o: CaLinkOptions): CaLink {
  const channel = controllerChannel(o.security);
  const ca = createMeshCaClient({ address: o.address, channel, ...(o.token === undefined ? {} : { token: o.token }) });
  return { ca, describe: channel.describe, stop: async () => ca.close() };
}

/**
 * The config stream and the CA client, verified the same way (same credentials, so grpc-js
 * may share their connection). Tests build the agent's side of the control plane with this
 * exactly as the agent does.
 */
export function connectController(o: ControllerLinkOptions): ControllerLink {
  const channel = controllerChannel(o.security);
  const token = o.token === undefined ? {} : { token: o.token };
  const ca = createMeshCaClient({ address: o.address, channel, ...token });
  const xds = connectMeshConfig({ address: o.address, channel, ...token, nodeName: o.nodeName, onUpdate: o.onUpdate, log: o.log });
  return {
    xds,
    ca,
    describe: channel.describe,
    stop: async () => {
      await xds.stop();
      ca.close();
    },
  };
}
