import { KubeConfig, Observable, type ConfigurationOptions } from '@kubernetes/client-node';

/**
 * The API server connection of a component: an explicit URL and bearer token
 * (the lab hands each component its own), else in-cluster service-account
 * credentials, else the user's kubeconfig.
 */
export function kubeConfig(opts: { server?: string | undefined; token?: string | undefined } = {}): KubeConfig {
  const kc = new KubeConfig();
  if (opts.server) {
    kc.loadFromOptions({
      // client-node refuses a plain-HTTP server unless TLS verification is
      // declared off (the lab's API server is HTTP inside its own namespace).
      clusters: [{ name: 'ambit', server: opts.server, skipTLSVerify: opts.server.startsWith('http:') }],
      users: [{ name: 'ambit', ...(opts.token ? { token: opts.token } : {}) }],
      contexts: [{ name: 'ambit', cluster: 'ambit', user: 'ambit' }],
      currentContext: 'ambit',
    });
  } else if (process.env.KUBERNETES_SERVICE_HOST) {
    kc.loadFromCluster();
  } else {
    kc.loadFromDefault();
  }
  return kc;
}

/**
 * Request options that abandon a request after `ms`, so a hung connection
 * cannot hold up what waits for it (a Lease renewal, the Event queue).
 */
export function requestTimeout(ms: number): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(AbortSignal.timeout(ms));
          return new Observable(Promise.resolve(ctx));
        },
        post: (res) => new Observable(Promise.resolve(res)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}
