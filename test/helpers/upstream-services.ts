import { ManifestCache } from '../../src/cache/manifest-cache.js';
import { ManifestService } from '../../src/cache/manifest-service.js';
import { UpstreamClient } from '../../src/upstream/client.js';

/**
 * An upstream client for the registry at `url` and a manifest service with no disk cache: what the tag and watch
 * services under test fetch through, without a whole app. `tagTtlSeconds` 0 (the default) asks the upstream on
 * every tag resolution. The caller closes both.
 */
export function upstreamServices(
  url: string,
  options: { host?: string; tagTtlSeconds?: number } = {},
): { upstream: UpstreamClient; manifests: ManifestService } {
  const upstream = new UpstreamClient(
    { host: options.host ?? 'docker.io', url, libraryPrefix: true, tagTtlSeconds: 0, credentials: undefined },
    { timeouts: { connectMs: 5_000, headersMs: 10_000, bodyMs: 10_000 } },
  );
  const ttl = options.tagTtlSeconds ?? 0;
  const manifests = new ManifestService({
    manifestMaxBytes: 4 << 20,
    cache: new ManifestCache(undefined),
    tagTtlSeconds: () => ttl,
  });
  return { upstream, manifests };
}
