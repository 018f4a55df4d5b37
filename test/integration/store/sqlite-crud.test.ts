import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/open.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { exercisePayloadEvents, exerciseStore } from './crud-cases.js';
import { exerciseReviewerTables } from './reviewer-cases.js';

describe('store on SQLite', () => {
  let dir: TempDir;
  let store: Store;
  beforeAll(async () => {
    dir = await makeTempDir('store-sqlite');
    store = await openStore({ dataDir: dir.path });
  });
  afterAll(async () => {
    await store?.close();
    await dir?.cleanup();
  });

  it('migrates at open, in WAL mode, and reads back what it wrote', async () => {
    expect(store.dialect).toBe('sqlite');
    expect(existsSync(join(dir.path, 'pullgate.db'))).toBe(true);
    expect(existsSync(join(dir.path, 'pullgate.db-wal'))).toBe(true);
    await exerciseStore(store);
  });

  it('keeps events that carry their own body and no alert (log.checkpoint)', async () => {
    await exercisePayloadEvents(store);
  });

  it('keeps tokens, sessions and the review queue', async () => {
    await exerciseReviewerTables(store);
  });
});
