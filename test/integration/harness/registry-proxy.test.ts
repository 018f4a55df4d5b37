import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  headManifestDigest,
  type SeededImages,
  seedRegistry,
  skopeoInspectDigest,
} from '../../helpers/images.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// proxyRemoteUrl makes a pull-through registry (the benchmark peer) that fetches from its remote.
describe('startRegistry({ proxyRemoteUrl })', () => {
  let upstream: Registry;
  let mirror: Registry;
  let seeded: SeededImages;

  beforeAll(async () => {
    upstream = await startRegistry();
    seeded = await seedRegistry(upstream);
    mirror = await startRegistry({ proxyRemoteUrl: upstream.url });
  });
  afterAll(async () => {
    await mirror?.stop();
    await upstream?.stop();
  });

  it('serves the remote content through the mirror and fetches it from the remote', async () => {
    const digest = await skopeoInspectDigest(`docker://${mirror.host}/library/app:nonroot`);
    expect(digest).toBe(seeded.digests.nonroot);
    expect(await headManifestDigest(mirror, 'library/app', 'docker-list')).toBe(
      seeded.digests['docker-list'],
    );
    const fetched = await upstream.waitForAccess((e) => e.path === '/v2/library/app/manifests/nonroot');
    expect(fetched.some((e) => e.path === '/v2/library/app/manifests/nonroot' && e.status === 200)).toBe(
      true,
    );
  });
});
