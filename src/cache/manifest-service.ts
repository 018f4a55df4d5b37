import { LRUCache } from 'lru-cache';
import type { Digest } from '../oci/digest.js';
import { header } from '../oci/headers.js';
import { type ManifestBytes, parseManifest } from '../oci/manifest.js';

export type { ManifestBytes };

import { baseMediaType, isImageManifestMediaType, isIndexMediaType } from '../oci/media-types.js';
import { declaredLength, firstHeader, requireOk } from '../upstream/client.js';
import { UpstreamError } from '../upstream/errors.js';
import { fetchVerified } from '../upstream/fetch-verified.js';
import type { UpstreamRepository } from '../upstream/router.js';
import { Coalescer } from './coalesce.js';
import type { ManifestCache } from './manifest-cache.js';

/** Manifest bytes plus where they came from this time, for the decision record. */
export interface FetchedManifest extends ManifestBytes {
  source: 'cache' | 'upstream';
}

export interface TagResolution {
  digest: string;
  mediaType: string;
  size: number;
  /** `upstream`: asked just now; `window`: trusted within the tag TTL; `stale`: upstream failed, last known. */
  source: 'upstream' | 'window' | 'stale';
  /** Why the answer is stale, when it is. */
  staleReason?: string;
}

export interface ManifestServiceOptions {
  manifestMaxBytes: number;
  cache: ManifestCache;
  tagTtlSeconds: (upstream: string) => number;
  /**
   * The last digest a tag was seen at, from the durable tag history: lets a restarted pullgate answer a tag from
   * what it knows while the upstream is down.
   */
  lastKnown?: (
    upstream: string,
    repository: string,
    tag: string,
  ) => Promise<{ digest: string; mediaType: string } | undefined>;
}

/**
 * Manifests through the proxy: tags resolved upstream with HEAD (Docker Hub does not count HEADs against the
 * pull limit) and trusted for the tag window; bytes fetched by digest once, verified, and cached by digest.
 */
export class ManifestService {
  // Bounded: a client naming many tags (or many Accept variants) evicts the oldest instead of growing the heap.
  private readonly tagWindow = new LRUCache<string, TagResolution>({ max: 50_000 });
  private readonly lastKnown = new LRUCache<string, TagResolution>({
    max: 50_000,
    ttl: 7 * 24 * 3600 * 1000,
  });
  private readonly resolving = new Coalescer<TagResolution>();
  private readonly fetching = new Coalescer<ManifestBytes>();

  constructor(private readonly options: ManifestServiceOptions) {}

  close(): void {
    this.tagWindow.clear();
    this.lastKnown.clear();
  }

  async resolveTag(
    route: UpstreamRepository,
    tag: string,
    accept: string,
    signal?: AbortSignal,
  ): Promise<TagResolution> {
    const key = `${route.upstream.host}/${route.repository}:${tag}|${accept}`;
    const windowed = this.tagWindow.get(key);
    if (windowed !== undefined) return { ...windowed, source: 'window' };
    return this.resolving.run(key, signal, async (shared) => {
      let resolution: TagResolution;
      try {
        resolution = await this.headTag(route, tag, accept, shared);
      } catch (err) {
        if (!(err instanceof UpstreamError) || !err.outage) throw err;
        const known =
          this.lastKnown.get(key) ??
          (await this.options
            .lastKnown?.(route.upstream.host, route.repository, tag)
            .then((k) => (k === undefined ? undefined : { ...k, size: -1, source: 'stale' as const }))
            .catch(() => undefined));
        if (known === undefined) throw err;
        return { ...known, source: 'stale', staleReason: err.message };
      }
      const ttl = this.options.tagTtlSeconds(route.upstream.host);
      if (ttl > 0) this.tagWindow.set(key, resolution, { ttl: ttl * 1000 });
      this.lastKnown.set(key, resolution);
      return resolution;
    });
  }

  /** Forgets the window for a tag, so the next request asks the upstream (used after a review). */
  forgetTag(route: UpstreamRepository, tag: string): void {
    const prefix = `${route.upstream.host}/${route.repository}:${tag}|`;
    for (const key of [...this.tagWindow.keys()]) if (key.startsWith(prefix)) this.tagWindow.delete(key);
  }

  async getByDigest(
    route: UpstreamRepository,
    digest: Digest,
    accept: string,
    signal?: AbortSignal,
  ): Promise<FetchedManifest> {
    const cached = await this.options.cache.get(route.upstream.host, route.repository, digest.value);
    if (cached !== undefined) return { ...cached, source: 'cache' };
    const key = `${route.upstream.host}/${route.repository}@${digest.value}`;
    const manifest = await this.fetching.run(key, signal, async (shared) => {
      const fetched = await this.fetchManifest(route, digest.value, accept, shared, digest.value);
      await this.options.cache.put(route.upstream.host, route.repository, fetched);
      return fetched;
    });
    return { ...manifest, source: 'upstream' };
  }

  /**
   * One fresh resolution of a tag upstream: past the tag window and without the stale fallback, so errors (a 429
   * with its Retry-After) reach the caller. The watcher uses it; clients go through resolveTag.
   */
  async resolveTagUpstream(
    route: UpstreamRepository,
    tag: string,
    accept: string,
    signal: AbortSignal,
  ): Promise<TagResolution> {
    return this.headTag(route, tag, accept, signal);
  }

  private async headTag(
    route: UpstreamRepository,
    tag: string,
    accept: string,
    signal: AbortSignal,
  ): Promise<TagResolution> {
    const res = await route.upstream.request({
      method: 'HEAD',
      path: `/v2/${route.repository}/manifests/${tag}`,
      repository: route.repository,
      headers: { accept },
      signal,
    });
    await requireOk(res, 'manifest', route.upstream.name);
    await res.body.dump();
    const digest = firstHeader(res.headers[header.dockerContentDigest]);
    const mediaType = baseMediaType(firstHeader(res.headers[header.contentType]));
    // A HEAD whose Content-Type names no manifest type (octet-stream from a static registry) says nothing about
    // what the bytes are: the GET below classifies them from the body.
    if (
      digest !== undefined &&
      /^sha256:[a-f0-9]{64}$/.test(digest) &&
      mediaType !== undefined &&
      (isImageManifestMediaType(mediaType) || isIndexMediaType(mediaType))
    ) {
      return { digest, mediaType, size: declaredLength(res.headers) ?? -1, source: 'upstream' };
    }
    // Some registries omit Docker-Content-Digest on HEAD; then the digest is that of the bytes a GET returns.
    const manifest = await this.fetchManifest(route, tag, accept, signal, undefined);
    await this.options.cache.put(route.upstream.host, route.repository, manifest);
    return {
      digest: manifest.digest,
      mediaType: manifest.mediaType,
      size: manifest.bytes.length,
      source: 'upstream',
    };
  }

  private async fetchManifest(
    route: UpstreamRepository,
    reference: string,
    accept: string,
    signal: AbortSignal,
    expected: string | undefined,
  ): Promise<ManifestBytes> {
    const { bytes, digest, headers } = await fetchVerified(route, {
      path: `/v2/${route.repository}/manifests/${reference}`,
      subject: 'manifest',
      what: 'manifest',
      limit: this.options.manifestMaxBytes,
      accept,
      signal,
      expected,
    });
    const contentType = firstHeader(headers[header.contentType]);
    const parsed = parseManifest(bytes, contentType);
    if (parsed.kind === 'unknown') {
      // Never served, never cached: whatever it is (a login page, a schema 1 manifest, a blob), pullgate cannot
      // judge it, and a client might read it as an image we did not judge.
      const host = route.upstream.host;
      throw new UpstreamError(
        'bad-answer',
        `upstream ${host} answered with something that is not a manifest pullgate understands (${parsed.why})`,
        {
          detail: {
            upstream: host,
            reference,
            ...(contentType === undefined ? {} : { contentType: contentType.slice(0, 200) }),
          },
        },
      );
    }
    return { digest, mediaType: parsed.mediaType, bytes };
  }
}
