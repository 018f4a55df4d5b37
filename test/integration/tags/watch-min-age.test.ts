import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/open.js';
import { TagHistory } from '../../../src/tags/history.js';
import { TagWatcher } from '../../../src/tags/watch.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { describeFrom, digest, image, OCI_MANIFEST, observation, offlineRoute } from './fixtures.js';

describe('a watch pass with minAgeSeconds', () => {
  let dir: TempDir;
  let store: Store;
  const start = Date.parse('2025-01-01T00:00:00Z');
  const route = offlineRoute('library/shared');
  const a = digest(61);
  const describe = describeFrom(new Map([[a, image(a)]]));

  beforeAll(async () => {
    dir = await makeTempDir('watch-min-age');
    store = await openStore({ dataDir: dir.path });
    // 0.1.0 last seen ten minutes in, 0.2.0 at the start.
    for (const [tag, at] of [
      ['0.1.0', start + 600_000],
      ['0.2.0', start],
    ] as const) {
      const history = new TagHistory({ store, describe, now: () => new Date(at) });
      await history.observe(observation(route, tag, a), AbortSignal.timeout(10_000));
    }
  });
  afterAll(async () => {
    await route.upstream.close();
    await store?.close();
    await dir?.cleanup();
  });

  it('leaves alone tags seen recently (by a client, or another replica sharing the store)', async () => {
    const seen: string[] = [];
    const watcher = new TagWatcher({
      store,
      history: new TagHistory({ store, describe }),
      now: () => new Date(start + 900_000),
      intervalSeconds: 600,
      minAgeSeconds: 600,
      routeFor: (_host, repository) => ({ upstream: route.upstream, repository }),
      resolve: async (_route, tag) => {
        seen.push(tag);
        return { digest: a, mediaType: OCI_MANIFEST };
      },
    });
    expect(await watcher.runOnce()).toEqual({ checked: 1, moved: 0, errors: 0, skipped: 0 });
    expect(seen).toEqual(['0.2.0']);
  });
});
