import { ConfigFetcher } from '../cache/config-fetcher.js';
import { ManifestCache } from '../cache/manifest-cache.js';
import { ManifestService } from '../cache/manifest-service.js';
import { parseDigest, requireDigest } from '../oci/digest.js';
import { type Descriptor, parseManifest, platformImages } from '../oci/manifest.js';
import { defaultManifestAccept, isImageConfigMediaType, isIndexMediaType } from '../oci/media-types.js';
import { isValidRepositoryName, isValidTag } from '../oci/reference.js';
import { UpstreamClient } from '../upstream/client.js';
import type { UpstreamRepository } from '../upstream/router.js';

/** An image reference as `docker pull` takes it: `[host[:port]/]repository[:tag][@digest]`. */
export interface ImageReference {
  /** The registry host as written (`docker.io` when none was). */
  host: string;
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

const DOCKER_HUB = 'docker.io';

export function parseImageReference(input: string): ImageReference | undefined {
  let rest = input.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    if (parseDigest(digest) === undefined) return undefined;
    rest = rest.slice(0, at);
  }
  let host = DOCKER_HUB;
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  // distribution/reference: the first component is a host if it has a dot or a port, or is localhost.
  if (slash > 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    host = first;
    rest = rest.slice(slash + 1);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (!isValidRepositoryName(rest)) return undefined;
  if (tag !== undefined && !isValidTag(tag)) return undefined;
  if ((host === DOCKER_HUB || host === 'index.docker.io') && !rest.includes('/')) rest = `library/${rest}`;
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { host: host === 'index.docker.io' ? DOCKER_HUB : host, repository: rest, tag, digest };
}

export interface FetchedImage {
  platform?: string;
  /** The platform's image manifest digest, for an index. */
  platformDigest?: string;
  /** The image manifest's annotations (the declared base, for stale-base). */
  annotations?: Record<string, string>;
  /** The config bytes; undefined with `error` when it could not be fetched or is not an image config. */
  config?: Buffer;
  error?: string;
}

export interface FetchedReference {
  digest: string;
  images: FetchedImage[];
}

const MANIFEST_MAX = 4 * 1024 * 1024;
const CONFIG_MAX = 8 * 1024 * 1024;

/**
 * Fetches the image configs a reference names, for `pullgate evaluate IMAGE`: the image manifest's config, or
 * each platform's config for an index (attestations skipped). Anonymous or Bearer-token pulls, or Basic with
 * the given credentials.
 */
/**
 * A route to the image's own registry and the proxy's own manifest path (bounded, verified), with nothing kept:
 * a one-off look at an image. The caller closes both.
 */
function oneOffRoute(
  ref: ImageReference,
  options: { insecure: boolean; credentials?: { username: string; password: string } | undefined },
): { client: UpstreamClient; route: UpstreamRepository; manifests: ManifestService } {
  const url =
    ref.host === DOCKER_HUB
      ? 'https://registry-1.docker.io'
      : `${options.insecure ? 'http' : 'https'}://${ref.host}`;
  const client = new UpstreamClient(
    { host: ref.host, url, libraryPrefix: false, tagTtlSeconds: 0, credentials: options.credentials },
    { timeouts: { connectMs: 10_000, headersMs: 30_000, bodyMs: 60_000 } },
  );
  const manifests = new ManifestService({
    manifestMaxBytes: MANIFEST_MAX,
    cache: new ManifestCache(undefined),
    tagTtlSeconds: () => 0,
  });
  return { client, route: { upstream: client, repository: ref.repository }, manifests };
}

export async function fetchImageConfigs(
  ref: ImageReference,
  options: { insecure: boolean; credentials?: { username: string; password: string } | undefined },
): Promise<FetchedReference> {
  const { client, route, manifests } = oneOffRoute(ref, options);
  const signal = AbortSignal.timeout(120_000);
  try {
    const digest = requireDigest(
      ref.digest ??
        (await manifests.resolveTagUpstream(route, ref.tag ?? 'latest', defaultManifestAccept, signal))
          .digest,
    );
    const top = await manifests.getByDigest(route, digest, defaultManifestAccept, signal);
    const parsed = parseManifest(top.bytes, top.mediaType);
    const configs = new ConfigFetcher(CONFIG_MAX);
    const one = async (
      config: Descriptor,
      extra: Omit<FetchedImage, 'config' | 'error'>,
    ): Promise<FetchedImage> => {
      if (!isImageConfigMediaType(config.mediaType))
        return { ...extra, error: 'not an image (artifact config)' };
      try {
        return { ...extra, config: await configs.fetch(route, config.digest, signal) };
      } catch (err) {
        return { ...extra, error: err instanceof Error ? err.message : 'error' };
      }
    };
    if (parsed.kind === 'image')
      return {
        digest: top.digest,
        images: [await one(parsed.manifest.config, annotated(parsed.manifest.annotations))],
      };
    if (parsed.kind === 'index') {
      const images: FetchedImage[] = [];
      for (const child of platformImages(parsed.index)) {
        const p = child.platform;
        const extra = {
          ...(p === undefined
            ? {}
            : { platform: [p.os, p.architecture, p.variant].filter(Boolean).join('/') }),
          platformDigest: child.digest,
        };
        const m = await manifests.getByDigest(
          route,
          requireDigest(child.digest),
          child.mediaType === '' ? defaultManifestAccept : child.mediaType,
          signal,
        );
        const pm = parseManifest(m.bytes, m.mediaType);
        images.push(
          pm.kind === 'image'
            ? await one(pm.manifest.config, { ...extra, ...annotated(pm.manifest.annotations) })
            : { ...extra, error: 'not an image manifest' },
        );
      }
      return { digest: top.digest, images };
    }
    return { digest: top.digest, images: [] };
  } finally {
    manifests.close();
    await client.close();
  }
}

function annotated(annotations: Record<string, string> | undefined): {
  annotations?: Record<string, string>;
} {
  return annotations === undefined ? {} : { annotations };
}

/**
 * What a tag points to now at its registry, for `pullgate evaluate`'s stale-base check: one HEAD (and an index's
 * manifest for its platforms), never a pull.
 */
export async function resolveTagNow(
  ref: ImageReference,
  options: { insecure: boolean; credentials?: { username: string; password: string } | undefined },
): Promise<{ digest: string; children: string[] }> {
  const { client, route, manifests } = oneOffRoute(ref, options);
  const signal = AbortSignal.timeout(60_000);
  try {
    const head = await manifests.resolveTagUpstream(
      route,
      ref.tag ?? 'latest',
      defaultManifestAccept,
      signal,
    );
    if (!isIndexMediaType(head.mediaType)) return { digest: head.digest, children: [] };
    const index = await manifests.getByDigest(
      route,
      requireDigest(head.digest),
      defaultManifestAccept,
      signal,
    );
    const parsed = parseManifest(index.bytes, index.mediaType);
    const children =
      parsed.kind === 'index'
        ? platformImages(parsed.index, { nestedIndexes: true }).map((d) => d.digest)
        : [];
    return { digest: head.digest, children };
  } finally {
    manifests.close();
    await client.close();
  }
}
