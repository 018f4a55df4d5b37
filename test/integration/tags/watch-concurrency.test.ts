import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/open.js';
import { TagHistory } from '../../../src/tags/history.js';
import { TagWatcher } from '../../../src/tags/watch.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { describeFrom, digest, image, OCI_MANIFEST, observation, offlineRoute } from './fixtures.js';

describe('a watch pass over many tags', () => {
  let dir: TempDir;
  let store: Store;
  const route = offlineRoute('library/busy');
  const a = digest(41);
  const tags = Array.from({ length: 12 }, (_, i) => `1.0.${i}`);

  beforeAll(async () => {
    dir = await makeTempDir('watch-concurrency');
    store = await openStore({ dataDir: dir.path });
    const history = new TagHistory({ store, describe: describeFrom(new Map([[a, image(a)]])) });
    for (const tag of tags) await history.observe(observation(route, tag, a), AbortSignal.timeout(10_000));
  });
  afterAll(async () => {
    await route.upstream.close();
    await store?.close();
    await dir?.cleanup();
  });

  it('keeps at most `concurrency` resolutions in flight and checks every tag once', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: string[] = [];
    const watcher = new TagWatcher({
      store,
      history: new TagHistory({ store, describe: describeFrom(new Map([[a, image(a)]])) }),
      intervalSeconds: 60,
      concurrency: 3,
      routeFor: (_host, repository) => ({ upstream: route.upstream, repository }),
      resolve: async (_route, tag) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        seen.push(tag);
        await new Promise((r) => setTimeout(r, 15));
        inFlight--;
        return { digest: a, mediaType: OCI_MANIFEST };
      },
    });
    expect(await watcher.runOnce()).toEqual({ checked: 12, moved: 0, errors: 0, skipped: 0 });
    expect(peak).toBe(3);
    expect([...seen].sort()).toEqual([...tags].sort());
  });
});
