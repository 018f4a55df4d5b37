import { afterAll, beforeAll, describe, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/open.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { prunesAsRetentionDeletes, prunesAtStart } from './index-retention-cases.js';

describe('decision index rows follow the log retention on SQLite', () => {
  let tmp: TempDir;
  let store: Store;
  beforeAll(async () => {
    tmp = await makeTempDir('index-retention-sqlite');
    store = await openStore({ dataDir: tmp.path });
  });
  afterAll(async () => {
    await store?.close();
    await tmp?.cleanup();
  });

  it('drops the rows of the files retention deletes while records arrive', async () => {
    await prunesAsRetentionDeletes(store, tmp.path);
  });

  it('drops at start the rows of files deleted while no indexer listened', async () => {
    await prunesAtStart(store, tmp.path);
  });
});
