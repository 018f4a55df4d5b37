import { afterAll, beforeAll, describe, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/open.js';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { prunesAsRetentionDeletes, prunesAtStart } from './index-retention-cases.js';

describe('decision index rows follow the log retention on a real PostgreSQL 15', () => {
  let pg: Postgres;
  let tmp: TempDir;
  let store: Store;
  beforeAll(async () => {
    pg = await startPostgres();
    tmp = await makeTempDir('index-retention-pg');
    store = await openStore({ dataDir: tmp.path, databaseUrl: await pg.createDatabase() });
  });
  afterAll(async () => {
    await store?.close();
    await pg?.stop();
    await tmp?.cleanup();
  });

  it('drops the rows of the files retention deletes while records arrive', async () => {
    await prunesAsRetentionDeletes(store, tmp.path);
  });

  it('drops at start the rows of files deleted while no indexer listened', async () => {
    await prunesAtStart(store, tmp.path);
  });
});
