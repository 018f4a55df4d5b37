import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchManifest, MEDIA_TYPE, putBlob, putManifest, sha256Digest } from '../../helpers/images.js';
import { type Registry, registryFetch, startRegistry } from '../../helpers/registry.js';

// putBlob/putManifest store exact bytes, so tests can craft shapes skopeo would never push.
describe('putBlob and putManifest', () => {
  let registry: Registry;

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('stores a manifest without mediaType byte for byte, served with the Content-Type it was put with', async () => {
    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { User: '1000' },
      rootfs: { type: 'layers', diff_ids: [] },
    });
    const configDigest = await putBlob(registry, 'crafted/app', config);
    expect(configDigest).toBe(sha256Digest(config));
    const blob = await registryFetch(registry, `/v2/crafted/app/blobs/${configDigest}`);
    expect(await blob.text()).toBe(config);

    const manifest = JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: MEDIA_TYPE.ociConfig, digest: configDigest, size: Buffer.byteLength(config) },
      layers: [],
    });
    const digest = await putManifest(
      registry,
      'crafted/app',
      'no-media-type',
      manifest,
      MEDIA_TYPE.ociManifest,
    );
    expect(digest).toBe(sha256Digest(manifest));
    const fetched = await fetchManifest(registry, 'crafted/app', 'no-media-type');
    expect(fetched.body.toString('utf8')).toBe(manifest);
    expect(fetched.contentType).toBe(MEDIA_TYPE.ociManifest);
    expect(fetched.digest).toBe(digest);
  });

  it('stores a Helm-chart-like artifact', async () => {
    const config = '{"name":"chart","version":"1.0.0"}';
    const chart = Buffer.from('not really a tarball');
    const configDigest = await putBlob(registry, 'charts/demo', config);
    const chartDigest = await putBlob(registry, 'charts/demo', chart);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociManifest,
      config: {
        mediaType: 'application/vnd.cncf.helm.config.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
          digest: chartDigest,
          size: chart.length,
        },
      ],
    });
    const digest = await putManifest(registry, 'charts/demo', '1.0.0', manifest, MEDIA_TYPE.ociManifest);
    expect((await fetchManifest(registry, 'charts/demo', digest)).body.toString('utf8')).toBe(manifest);
  });
});
