import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { type Dialect, migrationProvider } from './migrations.js';
import type { Database } from './schema.js';

export interface StoreOptions {
  /** Directory for the embedded SQLite file (`pullgate.db`), used when no database URL is given. */
  dataDir: string;
  /** `postgres://` or `postgresql://` URL: several replicas share one store. */
  databaseUrl?: string | undefined;
  /** PostgreSQL pool size per process. */
  poolSize?: number;
}

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** True when the database answers a trivial query (for /readyz). */
  ping(): Promise<boolean>;
  /**
   * A per-installation secret: created once (random, 32 bytes, hex) and shared by every replica. The first writer
   * wins; everybody reads the stored value back.
   */
  secret(name: string): Promise<Buffer>;
  close(): Promise<void>;
}

export class StoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreError';
  }
}

export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(?:ql)?:\/\//i.test(url);
}

/** Opens the store (SQLite in the data dir, or PostgreSQL) and brings its schema up to date. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const url = options.databaseUrl === '' ? undefined : options.databaseUrl;
  let db: Kysely<Database>;
  let dialect: Dialect;
  if (url !== undefined) {
    if (!isPostgresUrl(url)) {
      throw new StoreError('PULLGATE_DATABASE_URL must be a postgres:// or postgresql:// URL');
    }
    dialect = 'postgres';
    // Loaded only when used: each driver costs its memory in every process, and one machine needs only one.
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
    // An idle client that loses its connection emits 'error' on the pool; without a listener it would crash the
    // process. The next query gets a fresh connection.
    pool.on('error', () => undefined);
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  } else {
    dialect = 'sqlite';
    mkdirSync(options.dataDir, { recursive: true });
    const { default: SqliteDatabase } = await import('better-sqlite3');
    const file = new SqliteDatabase(join(options.dataDir, 'pullgate.db'));
    // WAL lets readers run beside the writer; busy_timeout makes a second process wait instead of failing.
    file.pragma('journal_mode = WAL');
    file.pragma('busy_timeout = 5000');
    file.pragma('synchronous = NORMAL');
    file.pragma('foreign_keys = ON');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: file }) });
  }

  try {
    const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
    const { error, results } = await migrator.migrateToLatest();
    if (error !== undefined) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new StoreError(`failed to migrate the ${dialect} store (migration ${failed})`, { cause: error });
    }
  } catch (err) {
    await db.destroy();
    throw err instanceof StoreError
      ? err
      : new StoreError(`failed to open the ${dialect} store`, { cause: err });
  }

  return {
    db,
    dialect,
    async ping() {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    async secret(name: string) {
      const key = `secret:${name}`;
      await db
        .insertInto('settings')
        .values({ key, value: randomBytes(32).toString('hex') })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      const row = await db
        .selectFrom('settings')
        .select('value')
        .where('key', '=', key)
        .executeTakeFirstOrThrow();
      return Buffer.from(row.value, 'hex');
    },
    async close() {
      await db.destroy();
    },
  };
}
