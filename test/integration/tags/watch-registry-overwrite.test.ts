import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigFetcher } from '../../../src/cache/config-fetcher.js';
import type { ManifestService } from '../../../src/cache/manifest-service.js';
import { openStore, type Store } from '../../../src/store/open.js';
import { createDescriber } from '../../../src/tags/describer.js';
import { TagHistory } from '../../../src/tags/history.js';
import { TagWatcher, upstreamTagResolver } from '../../../src/tags/watch.js';
import type { UpstreamClient } from '../../../src/upstream/client.js';
import {
  type ImageLayout,
  MEDIA_TYPE,
  PLANTED_AWS_SECRET,
  pushImage,
  testImages,
} from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { upstreamServices } from '../../helpers/upstream-services.js';

const accept = [
  MEDIA_TYPE.ociIndex,
  MEDIA_TYPE.ociManifest,
  MEDIA_TYPE.dockerList,
  MEDIA_TYPE.dockerManifest,
].join(', ');

// A client pulls through pullgate once; the tag is then overwritten on the real registry by a skopeo push and
// nobody pulls it. The watcher, sharing pullgate's store, notices the overwrite on its own.
describe('the watcher and a tag overwritten on the real registry while nobody pulls', () => {
  let registry: Registry;
  let layout: ImageLayout;
  let pullgate: Pullgate;
  let store: Store;
  let upstream: UpstreamClient;
  let manifests: ManifestService;

  beforeAll(async () => {
    [registry, layout] = await Promise.all([startRegistry(), testImages()]);
    pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: registry.url, PULLGATE_TAG_TTL: '0' } });
    store = await openStore({ dataDir: pullgate.dataDir });
    ({ upstream, manifests } = upstreamServices(registry.url));
  });
  afterAll(async () => {
    manifests?.close();
    await upstream?.close();
    await store?.close();
    await pullgate?.stop();
    await registry?.stop();
  });

  async function tagRequests(method: string): Promise<number> {
    const log = await registry.accessLog();
    return log.filter((e) => e.method === method && e.path === '/v2/library/svc/manifests/3.1.4').length;
  }

  async function pullDigest(): Promise<string | null> {
    const res = await fetch(`${pullgate.url}/v2/svc/manifests/3.1.4`, { headers: { accept } });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    return res.headers.get('docker-content-digest');
  }

  it('opens the alert with both digests and the diff on a HEAD-only pass, and the pin holds for the next pull', async () => {
    const oldDigest = await pushImage(layout.dir, 'nonroot', registry, 'library/svc', '3.1.4');
    expect(await pullDigest()).toBe(oldDigest);
    const newDigest = await pushImage(layout.dir, 'secretenv', registry, 'library/svc', '3.1.4');
    expect(newDigest).not.toBe(oldDigest);

    const history = new TagHistory({
      store,
      describe: createDescriber({
        manifests,
        configs: new ConfigFetcher(1 << 20),
        envKey: await store.secret('env-hmac'),
      }),
    });
    const watcher = new TagWatcher({
      store,
      history,
      intervalSeconds: 3600,
      routeFor: (host, repository) => (host === upstream.host ? { upstream, repository } : undefined),
      resolve: upstreamTagResolver(manifests),
    });
    // Log lines land just after each response: let the earlier requests' lines settle before counting.
    await new Promise((r) => setTimeout(r, 150));
    const headsBefore = await tagRequests('HEAD');

    expect(await watcher.runOnce()).toEqual({ checked: 1, moved: 1, errors: 0, skipped: 0 });

    const h = await history.history({ upstream: 'docker.io', repository: 'library/svc', tag: '3.1.4' });
    expect(h.alerts).toHaveLength(1);
    const alert = h.alerts[0];
    expect(alert).toMatchObject({ old: { digest: oldDigest }, new: { digest: newDigest }, status: 'open' });
    expect(alert?.diff).toMatchObject({ platforms: [{ env: { added: ['AWS_SECRET_ACCESS_KEY'] } }] });
    expect(JSON.stringify(alert)).not.toContain(PLANTED_AWS_SECRET);

    // The tag was resolved with HEAD, never GET (the diff fetched manifests by digest).
    await expect.poll(() => tagRequests('HEAD'), { timeout: 5_000 }).toBe(headsBefore + 1);
    expect(await tagRequests('GET')).toBe(0);

    // A fully qualified tag is pinned: the next client pull still gets the approved digest.
    expect(await pullDigest()).toBe(oldDigest);
  });
});
