import { join } from 'node:path';
import fp from 'fastify-plugin';
import { BlobStore } from '../cache/blob-store.js';
import { ConfigFetcher } from '../cache/config-fetcher.js';
import { ManifestCache } from '../cache/manifest-cache.js';
import { ManifestService } from '../cache/manifest-service.js';
import type { Config } from '../config/config.js';
import { TagStore } from '../store/index.js';
import { closeWithApp } from './on-close.js';

/** What pullgate keeps of upstream content: blobs on disk, manifests by digest, tags for their window. */
export interface Caches {
  blobs: BlobStore;
  manifests: ManifestService;
  configs: ConfigFetcher;
}

declare module 'fastify' {
  interface FastifyInstance {
    caches: Caches;
  }
}

export const cachesPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    const blobs = new BlobStore(join(config.dataDir, 'cache'), config.cacheMaxBytes);
    await blobs.init();
    const tags = new TagStore(app.store.db);
    const manifests = new ManifestService({
      manifestMaxBytes: config.manifestMaxBytes,
      cache: new ManifestCache(join(config.dataDir, 'cache', 'manifests')),
      tagTtlSeconds: (host) => app.upstreams.byHost(host)?.tagTtlSeconds ?? config.tagTtlSeconds,
      // The durable tag history: a restarted pullgate answers a tag from what it knows while the upstream is down.
      lastKnown: async (upstream, repository, tag) => {
        const seen = await tags.observations({ upstream, repository, tag });
        const last =
          seen.length === 0 ? undefined : seen.reduce((a, b) => (b.last_seen > a.last_seen ? b : a));
        return last === undefined ? undefined : { digest: last.digest, mediaType: last.media_type };
      },
    });
    app.decorate('caches', { blobs, manifests, configs: new ConfigFetcher(config.configMaxBytes, blobs) });
    closeWithApp(app, 'manifest proxy', () => manifests.close());
  },
  { name: 'caches', dependencies: ['store', 'upstreams'] },
);
