import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/open.js';
import { TagStore } from '../../../src/store/tag-store.js';
import { TagHistory } from '../../../src/tags/history.js';
import { TagWatcher } from '../../../src/tags/watch.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { describeFrom, digest, image, OCI_MANIFEST, observation, offlineRoute } from './fixtures.js';

describe('a watch pass bounded by maxTags', () => {
  let dir: TempDir;
  let store: Store;
  let clock = Date.parse('2025-01-01T00:00:00Z');
  const route = offlineRoute('library/many');
  const a = digest(51);
  const describe = describeFrom(new Map([[a, image(a)]]));

  beforeAll(async () => {
    dir = await makeTempDir('watch-max-tags');
    store = await openStore({ dataDir: dir.path });
    const history = new TagHistory({ store, describe, now: () => new Date(clock) });
    // Seen in this order, one minute apart, and 1.0.1 seen again last: it is the most recently seen.
    for (const tag of ['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.1']) {
      await history.observe(observation(route, tag, a), AbortSignal.timeout(10_000));
      clock += 60_000;
    }
  });
  afterAll(async () => {
    await route.upstream.close();
    await store?.close();
    await dir?.cleanup();
  });

  it('checks the least recently seen tags first, and the ones it checked go to the back of the line', async () => {
    expect((await new TagStore(store.db).watchedTags()).map((t) => t.tag)).toEqual([
      '1.0.0',
      '1.0.2',
      '1.0.3',
      '1.0.1',
    ]);
    const seen: string[] = [];
    const watcher = new TagWatcher({
      store,
      history: new TagHistory({ store, describe, now: () => new Date(clock) }),
      now: () => new Date(clock),
      intervalSeconds: 60,
      concurrency: 1,
      maxTags: 2,
      routeFor: (_host, repository) => ({ upstream: route.upstream, repository }),
      resolve: async (_route, tag) => {
        seen.push(tag);
        clock += 1_000;
        return { digest: a, mediaType: OCI_MANIFEST };
      },
    });
    expect(await watcher.runOnce()).toEqual({ checked: 2, moved: 0, errors: 0, skipped: 0 });
    expect(seen).toEqual(['1.0.0', '1.0.2']);
    await watcher.runOnce();
    expect(seen).toEqual(['1.0.0', '1.0.2', '1.0.3', '1.0.1']);
  });
});
