import { describe, expect, it } from 'vitest';
import { type ImageIndex, platformImages } from '../../../src/oci/manifest.js';
import { mediaType } from '../../../src/oci/media-types.js';

const d = (n: string) => `sha256:${n.repeat(64)}`;
const index: ImageIndex = {
  schemaVersion: 2,
  mediaType: mediaType.ociIndex,
  manifests: [
    {
      mediaType: mediaType.ociManifest,
      digest: d('a'),
      size: 1,
      platform: { os: 'linux', architecture: 'amd64' },
    },
    {
      mediaType: mediaType.ociManifest,
      digest: d('b'),
      size: 1,
      platform: { os: 'unknown', architecture: 'unknown' },
    },
    { mediaType: '', digest: d('c'), size: 1 },
    { mediaType: mediaType.ociIndex, digest: d('e'), size: 1 },
    { mediaType: 'application/vnd.example.thing', digest: d('f'), size: 1 },
  ],
} as ImageIndex;

describe('platformImages', () => {
  it('keeps image manifests and children without a media type, never attestations or other artifacts', () => {
    expect(platformImages(index).map((c) => c.digest)).toEqual([d('a'), d('c')]);
  });

  it('keeps child indexes only for a walk that goes down them', () => {
    expect(platformImages(index, { nestedIndexes: true }).map((c) => c.digest)).toEqual([
      d('a'),
      d('c'),
      d('e'),
    ]);
  });
});
