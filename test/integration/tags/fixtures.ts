import type { Describe } from '../../../src/tags/describer.js';
import type { ImageDescription, PlatformDescription } from '../../../src/tags/description.js';
import type { TagObservation } from '../../../src/tags/tracker.js';
import { UpstreamClient } from '../../../src/upstream/client.js';
import type { UpstreamRepository } from '../../../src/upstream/router.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export function digest(n: number): string {
  return `sha256:${n.toString(16).padStart(64, '0')}`;
}

/**
 * A route whose upstream is never contacted: these tests drive TagHistory with descriptions they hold, the
 * registry-backed describer has its own test against the real registry.
 */
export function offlineRoute(repository = 'library/app', host = 'registry.test'): UpstreamRepository {
  const upstream = new UpstreamClient(
    { host, url: 'http://127.0.0.1:9', libraryPrefix: true, tagTtlSeconds: 0, credentials: undefined },
    { timeouts: { connectMs: 100, headersMs: 100, bodyMs: 100 } },
  );
  return { upstream, repository };
}

export function platform(d: string, overrides: Partial<PlatformDescription> = {}): PlatformDescription {
  return {
    platform: 'linux/amd64',
    digest: d,
    mediaType: OCI_MANIFEST,
    user: '1000:1000',
    entrypoint: ['/app'],
    cmd: null,
    exposedPorts: ['8080/tcp'],
    labels: {},
    env: { PATH: 'h-path' },
    layers: ['sha256:layer-a'],
    created: '2024-01-01T00:00:00Z',
    annotations: {},
    ...overrides,
  };
}

export function image(d: string, overrides: Partial<PlatformDescription> = {}): ImageDescription {
  return { digest: d, mediaType: OCI_MANIFEST, kind: 'manifest', platforms: [platform(d, overrides)] };
}

/** A describe function over descriptions held in memory; unknown digests fail as an upstream 404 would. */
export function describeFrom(images: Map<string, ImageDescription>): Describe & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (_route: UpstreamRepository, d: string) => {
    calls.push(d);
    const found = images.get(d);
    if (found === undefined) throw new Error(`manifest ${d} unknown`);
    return found;
  };
  return Object.assign(fn, { calls });
}

export function observation(
  route: UpstreamRepository,
  tag: string,
  d: string,
  mediaType = OCI_MANIFEST,
): TagObservation {
  return { route, name: route.repository, tag, digest: d, mediaType, source: 'upstream' };
}
