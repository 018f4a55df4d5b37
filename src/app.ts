import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Dispatcher } from 'undici';
import { BlobStore } from './cache/blob-store.js';
import { ManifestCache } from './cache/manifest-cache.js';
import type { Config } from './config/config.js';
import { Metrics } from './plugins/metrics.js';
import { BlobService } from './registry/blob-service.js';
import { allowAll, type ManifestGate } from './registry/gate.js';
import { ManifestService } from './registry/manifest-service.js';
import { healthRoutes } from './routes/health.js';
import { v2Routes } from './routes/v2.js';
import { UpstreamClient } from './upstream/client.js';
import { UpstreamRouter } from './upstream/router.js';

export interface AppOverrides {
  logger?: FastifyServerOptions['logger'];
  /** Reach upstreams through this dispatcher (tests with in-process fault servers). */
  dispatcher?: Dispatcher;
  gate?: ManifestGate;
}

/** Builds the whole app from a config; never listens (server.ts does, tests use ephemeral ports). */
export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: overrides.logger ?? {
      level: config.logLevel,
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'],
        censor: '[redacted]',
      },
    },
    // HEAD is answered by its own handlers: a HEAD must not fetch a blob body upstream.
    exposeHeadRoutes: false,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Upstream errors map to 502/504 themselves; this is only the bound for a client that never reads.
    connectionTimeout: 0,
    return503OnClosing: true,
    // On close, idle keep-alive connections are dropped at once; busy ones finish their response first.
    forceCloseConnections: 'idle',
    trustProxy: false,
  });

  const metrics = new Metrics();
  const clientOptions = {
    timeouts: config.upstreamTimeouts,
    dispatcher: overrides.dispatcher,
    observe: metrics.observeUpstream,
  };
  const defaultUpstream = new UpstreamClient(config.defaultUpstream, clientOptions);
  const upstreams = config.upstreams.map((u) => new UpstreamClient(u, clientOptions));
  const upstreamConfigs = new Map([config.defaultUpstream, ...config.upstreams].map((u) => [u.host, u]));
  const router = new UpstreamRouter({
    defaultUpstream,
    defaultLibraryPrefix: config.defaultUpstream.libraryPrefix,
    upstreams,
    libraryPrefix: (host) => upstreamConfigs.get(host)?.libraryPrefix ?? false,
  });

  const blobStore = new BlobStore(join(config.dataDir, 'cache'), config.cacheMaxBytes);
  await blobStore.init();
  const manifests = new ManifestService({
    manifestMaxBytes: config.manifestMaxBytes,
    cache: new ManifestCache(join(config.dataDir, 'cache', 'manifests')),
    tagTtlSeconds: (host) => upstreamConfigs.get(host)?.tagTtlSeconds ?? config.tagTtlSeconds,
  });
  const blobs = new BlobService(blobStore);
  const gate = overrides.gate ?? allowAll;

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.requestSeconds.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });
  app.addHook('onClose', async () => {
    manifests.close();
    await Promise.all(router.all.map((u) => u.close()));
  });

  await app.register(healthRoutes, {
    metrics,
    readiness: {
      upstreams: () => router.all.length > 0,
    },
  });
  await app.register(v2Routes, {
    router,
    manifests,
    blobs,
    gate: () => gate,
    metrics,
    authenticate: async () => undefined,
  });
  return app;
}
