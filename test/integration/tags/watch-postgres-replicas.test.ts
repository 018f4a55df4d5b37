import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/open.js';
import { TagStore } from '../../../src/store/tag-store.js';
import { TagHistory } from '../../../src/tags/history.js';
import { TagWatcher } from '../../../src/tags/watch.js';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { describeFrom, digest, image, OCI_MANIFEST, observation, offlineRoute } from './fixtures.js';

describe('two watchers on one real PostgreSQL', () => {
  let pg: Postgres;
  let dir: TempDir;
  let stores: Store[] = [];
  const route = offlineRoute('library/pgwatch');

  beforeAll(async () => {
    pg = await startPostgres();
    dir = await makeTempDir('watch-pg');
  });
  afterAll(async () => {
    await route.upstream.close();
    await Promise.all(stores.map((s) => s.close()));
    await pg?.stop();
    await dir?.cleanup();
  });

  it('list the tracked tags with the same query as SQLite and open one alert for one overwrite', async () => {
    const url = await pg.createDatabase();
    stores = await Promise.all([
      openStore({ dataDir: dir.path, databaseUrl: url }),
      openStore({ dataDir: dir.path, databaseUrl: url }),
    ]);
    const [a, b] = [digest(101), digest(102)];
    const describe = describeFrom(new Map([a, b].map((d) => [d, image(d)])));
    const t0 = Date.parse('2025-01-01T00:00:00Z');
    const [first, second] = stores.map(
      (store) => new TagHistory({ store, describe, now: () => new Date(t0) }),
    );
    if (first === undefined || second === undefined) throw new Error('expected two stores');
    await first.observe(observation(route, '8.0.1', a), AbortSignal.timeout(10_000));
    await first.observe(observation(route, '8.0.0', a), AbortSignal.timeout(10_000));

    const [store0] = stores;
    if (store0 === undefined) throw new Error('expected a store');
    expect(await new TagStore(store0.db).watchedTags({ seenBefore: new Date(t0 + 1).toISOString() })).toEqual(
      [
        {
          upstream: 'registry.test',
          repository: 'library/pgwatch',
          tag: '8.0.0',
          lastSeen: new Date(t0).toISOString(),
        },
        {
          upstream: 'registry.test',
          repository: 'library/pgwatch',
          tag: '8.0.1',
          lastSeen: new Date(t0).toISOString(),
        },
      ],
    );
    expect(await new TagStore(store0.db).watchedTags({ seenBefore: new Date(t0).toISOString() })).toEqual([]);

    const watchers = stores.map(
      (store) =>
        new TagWatcher({
          store,
          history: new TagHistory({ store, describe }),
          intervalSeconds: 60,
          routeFor: (_host, repository) => ({ upstream: route.upstream, repository }),
          resolve: async (_route, tag) => ({ digest: tag === '8.0.0' ? b : a, mediaType: OCI_MANIFEST }),
        }),
    );
    const results = await Promise.all(watchers.map((w) => w.runOnce()));
    expect(results).toEqual([
      { checked: 2, moved: 1, errors: 0, skipped: 0 },
      { checked: 2, moved: 1, errors: 0, skipped: 0 },
    ]);
    const h = await second.history({
      upstream: 'registry.test',
      repository: 'library/pgwatch',
      tag: '8.0.0',
    });
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]).toMatchObject({ old: { digest: a }, new: { digest: b } });
  });
});
