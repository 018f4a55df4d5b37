import { describe, expect, it } from 'vitest';
import { isAttestationDescriptor, parseManifest } from '../../../src/oci/manifest.js';

const d = (n: string) => `sha256:${n.repeat(64)}`;
const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));
const image = {
  schemaVersion: 2,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d('1'), size: 10 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('2'), size: 20 }],
};

// Manifests are classified from Content-Type first (umoci writes no mediaType field), then from their shape.
describe('parseManifest', () => {
  it('reads an image manifest without a mediaType field by its Content-Type', () => {
    const parsed = parseManifest(bytes(image), 'application/vnd.oci.image.manifest.v1+json; charset=utf-8');
    expect(parsed).toMatchObject({ kind: 'image', mediaType: 'application/vnd.oci.image.manifest.v1+json' });
  });

  it('reads an index and a Docker manifest list', () => {
    const index = {
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: d('3'),
          size: 5,
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ],
    };
    expect(parseManifest(bytes(index), 'application/vnd.oci.image.index.v1+json').kind).toBe('index');
    expect(
      parseManifest(
        bytes({ ...index, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json' }),
        undefined,
      ),
    ).toMatchObject({
      kind: 'index',
      mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
    });
  });

  it('calls anything else other, without throwing', () => {
    expect(parseManifest(Buffer.from('not json'), 'application/json').kind).toBe('other');
    expect(
      parseManifest(
        bytes({ schemaVersion: 1, name: 'x' }),
        'application/vnd.docker.distribution.manifest.v1+prettyjws',
      ).kind,
    ).toBe('other');
  });

  it('recognises attestation manifests in an index', () => {
    expect(
      isAttestationDescriptor({
        mediaType: 'x',
        digest: d('4'),
        size: 1,
        platform: { os: 'unknown', architecture: 'unknown' },
      }),
    ).toBe(true);
    expect(
      isAttestationDescriptor({
        mediaType: 'x',
        digest: d('4'),
        size: 1,
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
      }),
    ).toBe(true);
    expect(
      isAttestationDescriptor({
        mediaType: 'x',
        digest: d('4'),
        size: 1,
        platform: { os: 'linux', architecture: 'arm64' },
      }),
    ).toBe(false);
  });
});
