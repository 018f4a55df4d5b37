import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/open.js';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { exercisePayloadEvents, exerciseStore } from './crud-cases.js';
import { exerciseReviewerTables } from './reviewer-cases.js';

describe('store on a real PostgreSQL 15', () => {
  let pg: Postgres;
  let dir: TempDir;
  let store: Store;
  beforeAll(async () => {
    pg = await startPostgres();
    dir = await makeTempDir('store-pg');
    store = await openStore({ dataDir: dir.path, databaseUrl: await pg.createDatabase() });
  });
  afterAll(async () => {
    await store?.close();
    await pg?.stop();
    await dir?.cleanup();
  });

  it('migrates at open and reads back what it wrote', async () => {
    expect(store.dialect).toBe('postgres');
    await exerciseStore(store);
  });

  it('keeps events that carry their own body and no alert (log.checkpoint)', async () => {
    await exercisePayloadEvents(store);
  });

  it('keeps tokens, sessions and the review queue', async () => {
    await exerciseReviewerTables(store);
  });
});
