import type { ManifestService } from '../cache/manifest-service.js';
import { parseDigest } from '../oci/digest.js';
import { parseManifest, platformImages } from '../oci/manifest.js';
import { defaultManifestAccept, isIndexMediaType } from '../oci/media-types.js';
import type { UpstreamRouter } from '../upstream/router.js';
import { type PullFactsDependencies, PullFactsSource } from './pull-facts.js';

/**
 * The pull rules' facts over the proxy's own parts: the router (a base on another upstream is looked up there),
 * the manifest service (HEAD of a base tag; an index's manifest for its platforms) and the tag store.
 */
export function pullFactsSource(parts: {
  router: Pick<UpstreamRouter, 'route'>;
  manifests: Pick<ManifestService, 'resolveTagUpstream' | 'getByDigest'>;
  tags: PullFactsDependencies['tags'];
}): PullFactsSource {
  return new PullFactsSource({
    tags: parts.tags,
    // The name's registry is containerd's `ns`: docker.io goes to the default upstream, others by host.
    route: (host, repository) => parts.router.route(repository, host),
    resolveUpstream: (route, tag, signal) =>
      parts.manifests.resolveTagUpstream(route, tag, defaultManifestAccept, signal),
    indexChildren: async (route, digest, mediaType, signal) => {
      const parsed = parseDigest(digest);
      if (!isIndexMediaType(mediaType) || parsed === undefined) return [];
      const index = await parts.manifests.getByDigest(route, parsed, defaultManifestAccept, signal);
      const manifest = parseManifest(index.bytes, index.mediaType);
      if (manifest.kind !== 'index') return [];
      return platformImages(manifest.index, { nestedIndexes: true }).map((d) => d.digest);
    },
  });
}
