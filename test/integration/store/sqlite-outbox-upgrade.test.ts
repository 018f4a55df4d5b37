import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrationProvider } from '../../../src/store/migrations.js';
import { openStore } from '../../../src/store/open.js';
import { Outbox } from '../../../src/store/outbox.js';
import type { Database } from '../../../src/store/schema.js';
import { makeTempDir } from '../../helpers/tmp.js';

describe('store upgrade to outbox payloads (0003) on SQLite', () => {
  it('rebuilds the outbox keeping its rows, and alert rows still refuse a missing alert', async () => {
    await using tmp = await makeTempDir('outbox-upgrade');
    const file = new SqliteDatabase(join(tmp.path, 'pullgate.db'));
    file.pragma('foreign_keys = ON');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: file }) });
    const all = await migrationProvider('sqlite').getMigrations();
    const initialOnly = {
      getMigrations: async () => ({ '0001_initial': all['0001_initial'] ?? { up: async () => {} } }),
    };
    expect((await new Migrator({ db, provider: initialOnly }).migrateToLatest()).error).toBeUndefined();
    const at = '2024-01-01T00:00:00.000Z';
    const alert = await db
      .insertInto('alerts')
      .values({
        upstream: 'docker.io',
        repository: 'library/nginx',
        tag: 'latest',
        kind: 'manifest',
        generation: 0,
        old_digest: 'a',
        new_digest: 'b',
        old_media_type: 'm',
        new_media_type: 'm',
        old_first_seen: null,
        old_last_seen: null,
        new_first_seen: null,
        new_last_seen: null,
        diff: '{}',
        decision: null,
        action: 'alert',
        severity: 'high',
        status: 'open',
        created_at: at,
        updated_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('outbox')
      // The 0001 table has no payload column yet.
      .values({
        receiver: 'r-1',
        format: 'json',
        event: 'alert.opened',
        alert_id: alert.id,
        created_at: at,
        attempts: 2,
        next_attempt_at: at,
        claimed_until: null,
        claim_token: null,
        delivered_at: null,
        last_error: 'down',
      } as never)
      .execute();
    await db.destroy();

    const store = await openStore({ dataDir: tmp.path });
    try {
      expect(await new Outbox(store.db).all()).toMatchObject([
        { event: 'alert.opened', alert_id: alert.id, attempts: 2, last_error: 'down', payload: null },
      ]);
      const orphan = store.db
        .insertInto('outbox')
        .values({
          receiver: 'r-1',
          format: 'json',
          event: 'alert.opened',
          alert_id: 9999,
          created_at: at,
          attempts: 0,
          next_attempt_at: at,
          claimed_until: null,
          claim_token: null,
          delivered_at: null,
          last_error: null,
          payload: null,
        })
        .execute();
      await expect(orphan).rejects.toThrow(/FOREIGN KEY/);
    } finally {
      await store.close();
    }
  });
});
