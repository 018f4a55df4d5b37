import { describe, expect, it } from 'vitest';
import { isAttestationDescriptor, parseManifest } from '../../../src/oci/manifest.js';

const d = (n: string) => `sha256:${n.repeat(64)}`;
const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));
const image = {
  schemaVersion: 2,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d('1'), size: 10 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('2'), size: 20 }],
};

// Manifests are classified from their bytes: the body's mediaType, else their shape (umoci writes no mediaType
// field); the upstream's Content-Type never makes something a manifest.
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

  it('calls anything else unknown, without throwing', () => {
    expect(parseManifest(Buffer.from('not json'), 'application/json').kind).toBe('unknown');
    expect(
      parseManifest(
        bytes({ schemaVersion: 1, name: 'x' }),
        'application/vnd.docker.distribution.manifest.v1+prettyjws',
      ).kind,
    ).toBe('unknown');
  });

  it('reads an image manifest served as application/octet-stream by its structure', () => {
    expect(parseManifest(bytes(image), 'application/octet-stream')).toMatchObject({
      kind: 'image',
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    });
  });

  it('reads an image manifest with no Content-Type at all', () => {
    expect(parseManifest(bytes(image), undefined).kind).toBe('image');
  });

  it('calls an HTML login page unknown whatever the Content-Type says', () => {
    const html = Buffer.from('<html><body>Sign in</body></html>');
    expect(parseManifest(html, 'application/vnd.oci.image.manifest.v1+json').kind).toBe('unknown');
  });

  it("lets the body's mediaType win over a Content-Type that names another manifest type", () => {
    const docker = { ...image, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' };
    expect(parseManifest(bytes(docker), 'application/vnd.oci.image.manifest.v1+json')).toMatchObject({
      kind: 'image',
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    });
  });

  it('calls a body with both index and image fields unknown (a client could read it either way)', () => {
    const both = { ...image, manifests: [] };
    expect(parseManifest(bytes(both), 'application/vnd.oci.image.index.v1+json').kind).toBe('unknown');
  });

  it('calls a mediaType that contradicts the structure unknown', () => {
    const lying = { ...image, mediaType: 'application/vnd.oci.image.index.v1+json' };
    expect(parseManifest(bytes(lying), undefined).kind).toBe('unknown');
  });

  it('calls a manifest of an unknown media type unknown', () => {
    const artifact = { ...image, mediaType: 'application/vnd.oci.artifact.manifest.v1+json' };
    expect(parseManifest(bytes(artifact), undefined).kind).toBe('unknown');
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
