import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fetchManifest } from '../../helpers/images.js';
import { useSeededPullgate } from '../../helpers/seeded-pullgate.js';

// Concurrent requests for a manifest or blob not yet fetched make one upstream GET between them, counted on
// the real registry's access log.
const setup = useSeededPullgate();

describe('coalescing', () => {
  it('makes one upstream GET for 20 concurrent pulls of the same manifest and the same large blob', async () => {
    const manifest = JSON.parse(
      (await fetchManifest(setup.upstream, setup.seeded.repo, 'big')).body.toString(),
    ) as {
      layers: { digest: string; size: number }[];
    };
    const biggest = [...manifest.layers].sort((a, b) => b.size - a.size)[0];
    if (biggest === undefined) throw new Error('no layers');
    const digest = setup.seeded.digests.big;

    const manifests = Array.from({ length: 20 }, () =>
      fetch(`${setup.pullgate.url}/v2/app/manifests/${digest}`).then(async (r) => ({
        status: r.status,
        digest: r.headers.get('docker-content-digest'),
        len: (await r.arrayBuffer()).byteLength,
      })),
    );
    const blobs = Array.from({ length: 20 }, () =>
      fetch(`${setup.pullgate.url}/v2/app/blobs/${biggest.digest}`).then(async (r) => {
        const hash = createHash('sha256');
        for await (const chunk of r.body ?? []) hash.update(chunk as Uint8Array);
        return { status: r.status, digest: `sha256:${hash.digest('hex')}` };
      }),
    );
    for (const m of await Promise.all(manifests)) expect(m).toMatchObject({ status: 200, digest });
    for (const b of await Promise.all(blobs)) expect(b).toEqual({ status: 200, digest: biggest.digest });

    await setup.upstream.waitForAccess((e) => e.path.endsWith(`/blobs/${biggest.digest}`));
    const log = await setup.upstream.accessLog();
    const gets = (suffix: string) => log.filter((e) => e.method === 'GET' && e.path.endsWith(suffix)).length;
    expect(gets(`/manifests/${digest}`)).toBe(1);
    expect(gets(`/blobs/${biggest.digest}`)).toBe(1);
  });
});
