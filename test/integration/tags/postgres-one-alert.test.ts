import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/open.js';
import { Outbox } from '../../../src/store/outbox.js';
import { TagHistory } from '../../../src/tags/history.js';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { describeFrom, digest, image, observation, offlineRoute } from './fixtures.js';

describe('two TagHistory replicas on one real PostgreSQL', () => {
  let pg: Postgres;
  let dir: TempDir;
  let stores: Store[] = [];
  beforeAll(async () => {
    pg = await startPostgres();
    dir = await makeTempDir('pg-replicas');
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await pg?.stop();
    await dir?.cleanup();
  });

  it('share one history and open exactly one alert for one mutation seen concurrently', async () => {
    const url = await pg.createDatabase();
    // Two stores with their own pools, migrating concurrently, as two pullgate processes would at start.
    stores = await Promise.all([
      openStore({ dataDir: dir.path, databaseUrl: url }),
      openStore({ dataDir: dir.path, databaseUrl: url }),
    ]);
    const [a, b] = [digest(31), digest(32)];
    const images = new Map([a, b].map((d) => [d, image(d)]));
    const receivers = [{ url: 'http://127.0.0.1:1/hook', format: 'json' as const }];
    const replicas = stores.map(
      (store) => new TagHistory({ store, describe: describeFrom(images), receivers }),
    );
    const route = offlineRoute('library/postgres');
    const signal = AbortSignal.timeout(30_000);

    await Promise.all(replicas.map((r) => r.observe(observation(route, '16.2.0', a), signal)));
    const decisions = await Promise.all(
      Array.from({ length: 24 }, (_, i) => replicas[i % 2]?.observe(observation(route, '16.2.0', b), signal)),
    );
    const alertIds = new Set(decisions.map((d) => d?.alertId));
    expect(alertIds.size).toBe(1);
    expect(decisions.every((d) => d?.kind === 'serve' && d.digest === a)).toBe(true);

    const [r0, r1] = replicas;
    if (r0 === undefined || r1 === undefined) throw new Error('two replicas expected');
    const key = { upstream: 'registry.test', repository: 'library/postgres', tag: '16.2.0' };
    const seen0 = await r0.history(key);
    const seen1 = await r1.history(key);
    expect(seen0).toEqual(seen1);
    expect(seen0.alerts).toHaveLength(1);
    expect(seen0.observations.find((o) => o.digest === b)?.count).toBe(24);
    expect(seen0.observations.find((o) => o.digest === a)?.count).toBe(2);
    const [s0] = stores;
    if (s0 === undefined) throw new Error('store expected');
    expect(await new Outbox(s0.db).all()).toHaveLength(1);
  });
});
