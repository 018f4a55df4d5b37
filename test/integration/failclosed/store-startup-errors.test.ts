import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/open.js';
import { getFreePort } from '../../helpers/ports.js';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// Issue 10, path 4: start-up against a missing database said "failed to migrate the postgres store (migration
// unknown)" and nothing about where or why.
let postgres: Postgres;
let tmp: TempDir;
beforeAll(async () => {
  postgres = await startPostgres();
  tmp = await makeTempDir('store-errors');
});
afterAll(async () => {
  await postgres?.stop();
  await tmp?.cleanup();
});

describe('opening the store', () => {
  it('names host, port, database and the cause when the database does not exist', async () => {
    const url = `postgres://postgres:not-a-real-password@127.0.0.1:${postgres.port}/no_such_db`;
    const err = await openStore({ dataDir: tmp.path, databaseUrl: url }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toContain(`127.0.0.1:${postgres.port}/no_such_db`);
    expect(message).toContain('database "no_such_db" does not exist');
    expect(message).not.toContain('not-a-real-password');
  });

  it('names host, port, database and the socket error when nothing listens there', async () => {
    const port = await getFreePort();
    const url = `postgres://postgres@127.0.0.1:${port}/pullgate`;
    const err = await openStore({ dataDir: tmp.path, databaseUrl: url }).catch((e: unknown) => e as Error);
    const message = (err as Error).message;
    expect(message).toContain(`127.0.0.1:${port}/pullgate`);
    expect(message).toContain('ECONNREFUSED');
  });
});
