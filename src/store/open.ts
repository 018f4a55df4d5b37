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
  /** Where the store is, for messages: `postgres db.example:5432/pullgate` or `sqlite /data/pullgate.db`; never credentials. */
  readonly target: string;
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

/** The store did not answer a query a request needs; the caller should try again (503). */
export class StoreUnavailableError extends StoreError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(?:ql)?:\/\//i.test(url);
}

/** `host:port/database` of a PostgreSQL URL, without user or password (messages must never carry them). */
export function postgresTarget(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname === '' ? (u.searchParams.get('host') ?? 'localhost') : u.hostname;
    const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || '(default database)';
    return `${host}:${u.port === '' ? '5432' : u.port}/${database}`;
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Why the database did not answer, for a person: the driver's message (PostgreSQL's own, e.g. `password
 * authentication failed for user "pullgate"` or `database "x" does not exist`, or the socket error) and its code.
 * pg's messages name the user and database, never the password.
 */
export function storeCause(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown; errors?: unknown };
  // Node's "connect ECONNREFUSED" for a host with several addresses arrives as an AggregateError with no message.
  const inner = Array.isArray(e.errors) && e.errors.length > 0 ? (e.errors[0] as typeof e) : undefined;
  const message =
    typeof e.message === 'string' && e.message !== ''
      ? e.message
      : typeof inner?.message === 'string'
        ? inner.message
        : 'unknown error';
  const code = typeof e.code === 'string' ? e.code : typeof inner?.code === 'string' ? inner.code : undefined;
  return code === undefined || message.includes(code) ? message : `${message} (${code})`;
}

/** How long a PostgreSQL connection attempt and a query may take before the store counts as unavailable. */
const PG_CONNECT_TIMEOUT_MS = 5_000;
const PG_QUERY_TIMEOUT_MS = 15_000;
const PING_TIMEOUT_MS = 2_000;

/** Opens the store (SQLite in the data dir, or PostgreSQL) and brings its schema up to date. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const url = options.databaseUrl === '' ? undefined : options.databaseUrl;
  let db: Kysely<Database>;
  let dialect: Dialect;
  let target: string;
  if (url !== undefined) {
    if (!isPostgresUrl(url)) {
      throw new StoreError('PULLGATE_DATABASE_URL must be a postgres:// or postgresql:// URL');
    }
    dialect = 'postgres';
    target = `postgres ${postgresTarget(url)}`;
    // Loaded only when used: each driver costs its memory in every process, and one machine needs only one.
    const { default: pg } = await import('pg');
    // Timeouts: without them a database host that drops packets hangs every pull (and /readyz) instead of
    // answering 503 naming the store.
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
      query_timeout: PG_QUERY_TIMEOUT_MS,
    });
    // An idle client that loses its connection emits 'error' on the pool; without a listener it would crash the
    // process. The next query gets a fresh connection.
    pool.on('error', () => undefined);
    // A checked-out client has no pool listener (pg-pool removes it on acquire): PostgreSQL shutting down (57P01,
    // "terminating connection due to administrator command") between two queries of a transaction, or before the
    // first is sent, emits 'error' on the client itself and crashed the replica. The query in flight rejects on
    // its own and the pool drops the broken client when it is released.
    pool.on('connect', (client) => client.on('error', () => undefined));
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  } else {
    dialect = 'sqlite';
    const path = join(options.dataDir, 'pullgate.db');
    target = `sqlite ${path}`;
    mkdirSync(options.dataDir, { recursive: true });
    const { default: SqliteDatabase } = await import('better-sqlite3');
    const file = new SqliteDatabase(path);
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
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      // No migration ran at all: the database never answered (unreachable host, wrong credentials, no such
      // database). Otherwise one migration failed.
      throw new StoreError(
        failed === undefined
          ? `failed to open the store at ${target}: ${storeCause(error)}`
          : `failed to migrate the store at ${target} (migration ${failed}): ${storeCause(error)}`,
        { cause: error },
      );
    }
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw err instanceof StoreError
      ? err
      : new StoreError(`failed to open the store at ${target}: ${storeCause(err)}`, { cause: err });
  }

  return {
    db,
    dialect,
    target,
    async ping() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
      });
      try {
        return await Promise.race([
          sql`select 1`.execute(db).then(
            () => true,
            () => false,
          ),
          timeout,
        ]);
      } finally {
        clearTimeout(timer);
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
