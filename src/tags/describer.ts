import { createHmac } from 'node:crypto';
import type { ConfigFetcher } from '../cache/config-fetcher.js';
import type { ManifestService } from '../cache/manifest-service.js';
import { parseDigest } from '../oci/digest.js';
import { type Descriptor, parseManifest, platformImages } from '../oci/manifest.js';
import { defaultManifestAccept } from '../oci/media-types.js';
import type { UpstreamRepository } from '../upstream/router.js';
import {
  describePlatform,
  type EnvHasher,
  type ImageDescription,
  imageConfigSchema,
  type PlatformDescription,
} from './description.js';

/** Fetches and describes an image by digest, for history (index children) and for alert diffs. */
export type Describe = (
  route: UpstreamRepository,
  digest: string,
  signal: AbortSignal,
) => Promise<ImageDescription>;

export interface DescriberOptions {
  manifests: Pick<ManifestService, 'getByDigest'>;
  configs: Pick<ConfigFetcher, 'fetch'>;
  /** The per-installation key for env value hashes (`store.secret('env-hmac')`). */
  envKey: Buffer;
  /** Platforms described per index at most; the rest are left out (an index of 40 platforms is rare). */
  maxPlatforms?: number;
}

/**
 * HMAC-SHA256 under a per-installation key: a plain hash of a short secret could be reversed by guessing, a keyed
 * one cannot without the key, and equal values still hash equal so "changed" can be told.
 */
export function envHasher(key: Buffer): EnvHasher {
  return (name, value) =>
    createHmac('sha256', key).update(name).update('\0').update(value).digest('hex').slice(0, 32);
}

export function createDescriber(options: DescriberOptions): Describe {
  const hashEnv = envHasher(options.envKey);
  const maxPlatforms = options.maxPlatforms ?? 16;

  const manifestBytes = async (route: UpstreamRepository, digest: string, signal: AbortSignal) => {
    const parsed = parseDigest(digest);
    if (parsed === undefined) throw new Error(`invalid digest ${digest.slice(0, 80)}`);
    return options.manifests.getByDigest(route, parsed, defaultManifestAccept, signal);
  };

  const describeImage = async (
    route: UpstreamRepository,
    descriptor: Pick<Descriptor, 'digest' | 'platform'>,
    signal: AbortSignal,
    indexAnnotations: Record<string, string> | undefined,
  ): Promise<PlatformDescription | undefined> => {
    const m = await manifestBytes(route, descriptor.digest, signal);
    const parsed = parseManifest(m.bytes, m.mediaType);
    if (parsed.kind !== 'image') return undefined;
    const configBytes = await options.configs.fetch(route, parsed.manifest.config.digest, signal);
    let json: unknown;
    try {
      json = JSON.parse(configBytes.toString('utf8'));
    } catch {
      json = {};
    }
    const config = imageConfigSchema.safeParse(json);
    return describePlatform(
      {
        digest: m.digest,
        mediaType: parsed.mediaType,
        platform: descriptor.platform,
        manifest: parsed.manifest,
        config: config.success ? config.data : {},
        indexAnnotations,
      },
      hashEnv,
    );
  };

  return async (route, digest, signal) => {
    const m = await manifestBytes(route, digest, signal);
    const parsed = parseManifest(m.bytes, m.mediaType);
    switch (parsed.kind) {
      case 'image': {
        const p = await describeImage(route, { digest, platform: undefined }, signal, undefined);
        return {
          digest,
          mediaType: parsed.mediaType,
          kind: 'manifest',
          platforms: p === undefined ? [] : [p],
        };
      }
      case 'index': {
        // Attestation manifests (`unknown/unknown`) are not images (DESIGN.md, step 5).
        const children = platformImages(parsed.index).slice(0, maxPlatforms);
        const described = await Promise.all(
          children.map((d) => describeImage(route, d, signal, parsed.index.annotations)),
        );
        return {
          digest,
          mediaType: parsed.mediaType,
          kind: 'index',
          platforms: described.filter((p): p is PlatformDescription => p !== undefined),
        };
      }
      case 'unknown':
        return { digest, mediaType: m.mediaType, kind: 'other', platforms: [] };
    }
  };
}
