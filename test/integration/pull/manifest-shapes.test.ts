import { describe, expect, it } from 'vitest';
import { fetchManifest } from '../../helpers/images.js';
import { useSeededPullgate } from '../../helpers/seeded-pullgate.js';

// Every manifest shape comes through byte for byte, with the headers clients rely on, by tag and by digest.
const setup = useSeededPullgate();

const accept = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

describe('manifests through pullgate', () => {
  for (const tag of ['nonroot', 'v2s2', 'oci-index', 'docker-list'] as const) {
    it(`serves ${tag} by tag and by digest with the exact bytes and headers`, async () => {
      const direct = await fetchManifest(setup.upstream, setup.seeded.repo, tag);
      const digest = setup.seeded.digests[tag];
      for (const reference of [tag, digest]) {
        const res = await fetch(`${setup.pullgate.url}/v2/app/manifests/${reference}`, {
          headers: { accept },
        });
        expect(res.status).toBe(200);
        const body = Buffer.from(await res.arrayBuffer());
        expect(body.equals(direct.body)).toBe(true);
        expect(res.headers.get('docker-content-digest')).toBe(digest);
        expect(res.headers.get('content-type')).toBe(direct.contentType);
        expect(res.headers.get('content-length')).toBe(String(direct.body.length));

        const head = await fetch(`${setup.pullgate.url}/v2/library/app/manifests/${reference}`, {
          method: 'HEAD',
          headers: { accept },
        });
        expect(head.status).toBe(200);
        expect(head.headers.get('docker-content-digest')).toBe(digest);
        expect(head.headers.get('content-type')).toBe(direct.contentType);
        expect(head.headers.get('content-length')).toBe(String(direct.body.length));
        expect((await head.arrayBuffer()).byteLength).toBe(0);
      }
    });
  }

  it('answers the API version check', async () => {
    const res = await fetch(`${setup.pullgate.url}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });
});
