import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigFetcher } from '../../../src/cache/config-fetcher.js';
import type { ManifestService } from '../../../src/cache/manifest-service.js';
import { defaultManifestAccept } from '../../../src/oci/media-types.js';
import { openStore, type Store } from '../../../src/store/open.js';
import { createDescriber } from '../../../src/tags/describer.js';
import { TagHistory } from '../../../src/tags/history.js';
import type { UpstreamClient } from '../../../src/upstream/client.js';
import type { UpstreamRepository } from '../../../src/upstream/router.js';
import {
  type ImageLayout,
  PLANTED_AWS_SECRET,
  pushImage,
  pushOciIndex,
  testImages,
} from '../../helpers/images.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { upstreamServices } from '../../helpers/upstream-services.js';

describe('a tag overwritten on the real registry between two resolutions', () => {
  let registry: Registry;
  let layout: ImageLayout;
  let dir: TempDir;
  let store: Store;
  let upstream: UpstreamClient;
  let manifests: ManifestService;

  beforeAll(async () => {
    [registry, layout, dir] = await Promise.all([startRegistry(), testImages(), makeTempDir('overwrite')]);
    store = await openStore({ dataDir: dir.path });
    ({ upstream, manifests } = upstreamServices(registry.url));
  });
  afterAll(async () => {
    manifests?.close();
    await upstream?.close();
    await store?.close();
    await registry?.stop();
    await dir?.cleanup();
  });

  it('pins the old digest and opens an alert whose diff names what changed, env by name only', async () => {
    const route: UpstreamRepository = { upstream, repository: 'library/web' };
    const describe = createDescriber({
      manifests,
      configs: new ConfigFetcher(1 << 20),
      envKey: await store.secret('env-hmac'),
    });
    const history = new TagHistory({ store, describe });
    const signal = AbortSignal.timeout(60_000);
    const resolve = async (tag: string) => {
      const r = await manifests.resolveTag(route, tag, defaultManifestAccept, signal);
      return history.observe(
        { route, name: 'web', tag, digest: r.digest, mediaType: r.mediaType, source: r.source },
        signal,
      );
    };

    const oldDigest = await pushImage(layout.dir, 'nonroot', registry, 'library/web', '2.4.1');
    expect(await resolve('2.4.1')).toMatchObject({ digest: oldDigest, event: 'first-seen' });
    const newDigest = await pushImage(layout.dir, 'secretenv', registry, 'library/web', '2.4.1');
    const decision = await resolve('2.4.1');
    expect(decision).toMatchObject({ kind: 'serve', digest: oldDigest, event: 'pinned' });

    const alert = await history.alert(Number(decision.alertId));
    expect(alert).toMatchObject({ old: { digest: oldDigest }, new: { digest: newDigest }, status: 'open' });
    const text = JSON.stringify(alert);
    expect(text).toContain('AWS_SECRET_ACCESS_KEY');
    expect(text).not.toContain(PLANTED_AWS_SECRET);
    expect(alert?.diff).toMatchObject({ platforms: [{ env: { added: ['AWS_SECRET_ACCESS_KEY'] } }] });

    const approved = await history.approve(Number(decision.alertId), 'alice', 'expected');
    expect(approved.kind).toBe('reviewed');
    expect(await resolve('2.4.1')).toMatchObject({ digest: newDigest, event: 'unchanged' });
  });

  it('records the platform manifests of an index and treats a child resolution as the same image', async () => {
    const route: UpstreamRepository = { upstream, repository: 'library/multi' };
    const describe = createDescriber({
      manifests,
      configs: new ConfigFetcher(1 << 20),
      envKey: await store.secret('env-hmac'),
    });
    const history = new TagHistory({ store, describe });
    const signal = AbortSignal.timeout(60_000);
    const pushed = await pushOciIndex(layout.dir, registry, 'library/multi', '1.0.0');
    const r = await manifests.resolveTag(route, '1.0.0', defaultManifestAccept, signal);
    expect(
      await history.observe(
        { route, name: 'multi', tag: '1.0.0', digest: r.digest, mediaType: r.mediaType, source: 'upstream' },
        signal,
      ),
    ).toMatchObject({ event: 'first-seen' });
    const child = await history.observe(
      {
        route,
        name: 'multi',
        tag: '1.0.0',
        digest: pushed.children.arm64,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        source: 'upstream',
      },
      signal,
    );
    expect(child).toMatchObject({ kind: 'serve', digest: pushed.children.arm64, event: 'unchanged' });
    const h = await history.history({ upstream: 'docker.io', repository: 'library/multi', tag: '1.0.0' });
    const index = h.observations.find((o) => o.digest === pushed.digest);
    expect(index?.children?.map((c) => c.platform).sort()).toEqual(['linux/amd64', 'linux/arm64']);
  });
});
