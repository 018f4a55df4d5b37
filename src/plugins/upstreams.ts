import fp from 'fastify-plugin';
import type { Dispatcher } from 'undici';
import type { Config, UpstreamConfig } from '../config/config.js';
import { UpstreamClient, type UpstreamObservation } from '../upstream/client.js';
import { UpstreamReachability } from '../upstream/reachability.js';
import { UpstreamRouter } from '../upstream/router.js';
import { closeWithApp } from './on-close.js';

/** The registries pullgate proxies: how a repository name routes to one, and how each has been answering. */
export interface Upstreams {
  router: UpstreamRouter;
  reachability: UpstreamReachability;
  /** The configured upstream for a host, if any. */
  byHost(host: string): UpstreamConfig | undefined;
  /** A registry's name for people (its configured name, else its host). */
  name(host: string): string;
}

declare module 'fastify' {
  interface FastifyInstance {
    upstreams: Upstreams;
  }
}

export interface UpstreamsPluginOptions {
  config: Config;
  /** Reach upstreams through this dispatcher (tests with in-process fault servers). */
  dispatcher?: Dispatcher;
}

/** One undici client per upstream, closed with the app. */
export const upstreamsPlugin = fp<UpstreamsPluginOptions>(
  async (app, { config, dispatcher }) => {
    const configs = new Map([config.defaultUpstream, ...config.upstreams].map((u) => [u.host, u]));
    // Reads the router only when asked, once it exists below.
    const reachability = new UpstreamReachability(() => router.all);
    const clientOptions = {
      timeouts: config.upstreamTimeouts,
      dispatcher,
      observe: (o: UpstreamObservation) => {
        app.metrics.observeUpstream(o);
        reachability.observe(o);
      },
    };
    const router = new UpstreamRouter({
      defaultUpstream: new UpstreamClient(config.defaultUpstream, clientOptions),
      defaultLibraryPrefix: config.defaultUpstream.libraryPrefix,
      upstreams: config.upstreams.map((u) => new UpstreamClient(u, clientOptions)),
      libraryPrefix: (host) => configs.get(host)?.libraryPrefix ?? false,
    });
    app.decorate('upstreams', {
      router,
      reachability,
      byHost: (host: string) => configs.get(host),
      name: (host: string) => configs.get(host)?.name ?? host,
    });
    closeWithApp(app, 'upstream clients', () => Promise.all(router.all.map((u) => u.close())));
  },
  { name: 'upstreams', dependencies: ['metrics'] },
);
