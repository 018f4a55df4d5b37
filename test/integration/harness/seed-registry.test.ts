import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIG_LAYER_BYTES,
  fetchManifest,
  headManifestDigest,
  MEDIA_TYPE,
  SEED_TAGS,
  type SeededImages,
  seedRegistry,
  skopeoInspectDigest,
} from '../../helpers/images.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// seedRegistry pushes the whole standard set and reports digests the registry itself agrees with.
describe('seedRegistry', () => {
  let registry: Registry;
  let seeded: SeededImages;

  beforeAll(async () => {
    registry = await startRegistry();
    seeded = await seedRegistry(registry);
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('pushes every standard tag under the digest the registry reports', async () => {
    for (const tag of SEED_TAGS) {
      expect(await headManifestDigest(registry, 'library/app', tag), tag).toBe(seeded.digests[tag]);
    }
  });

  it('serves each tag with the manifest media type its name promises', async () => {
    const types = {
      nonroot: MEDIA_TYPE.ociManifest,
      v2s2: MEDIA_TYPE.dockerManifest,
      'oci-index': MEDIA_TYPE.ociIndex,
      'docker-list': MEDIA_TYPE.dockerList,
    };
    for (const [tag, type] of Object.entries(types)) {
      expect((await fetchManifest(registry, 'library/app', tag)).contentType, tag).toBe(type);
    }
  });

  it('reports the per-platform children of the index and the list', async () => {
    for (const list of ['oci-index', 'docker-list'] as const) {
      const { amd64, arm64 } = seeded.children[list];
      expect(amd64).not.toBe(arm64);
      expect(await headManifestDigest(registry, 'library/app', amd64)).toBe(amd64);
      expect(await headManifestDigest(registry, 'library/app', arm64)).toBe(arm64);
    }
    expect(seeded.children['oci-index'].amd64).toBe(seeded.digests.nonroot);
  });

  it('gives the big image a top layer of at least 50 MB', async () => {
    const manifest = JSON.parse(
      (await fetchManifest(registry, 'library/app', 'big')).body.toString('utf8'),
    ) as {
      layers: { size: number }[];
    };
    const top = manifest.layers.at(-1);
    expect(top?.size ?? 0).toBeGreaterThanOrEqual(BIG_LAYER_BYTES);
    expect(BIG_LAYER_BYTES).toBeGreaterThanOrEqual(50 * 1024 * 1024);
  });

  it('agrees with skopeo inspect on the digest of a tag', async () => {
    const digest = await skopeoInspectDigest(`docker://${registry.host}/library/app:v2s2`);
    expect(digest).toBe(seeded.digests.v2s2);
  });
});
