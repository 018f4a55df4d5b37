import {
  type ColumnDefinitionBuilder,
  type CreateTableBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
  sql,
} from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

// Migrations live in code (not files on disk) so the built package carries them; names sort in order of
// application. Never edit a migration that has shipped: add the next one.
function idColumn<T extends string>(dialect: Dialect, table: CreateTableBuilder<T, never>) {
  return dialect === 'postgres'
    ? table.addColumn('id', 'serial', (c: ColumnDefinitionBuilder) => c.primaryKey())
    : table.addColumn('id', 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement());
}

function initial(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('tag_observations')
        .addColumn('upstream', 'text', (c) => c.notNull())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('tag', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('media_type', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('tag_observations_pk', ['upstream', 'repository', 'tag', 'digest'])
        .execute();

      await db.schema
        .createTable('tag_state')
        .addColumn('upstream', 'text', (c) => c.notNull())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('tag', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('approved_digest', 'text', (c) => c.notNull())
        .addColumn('approved_media_type', 'text', (c) => c.notNull())
        .addColumn('approved_at', 'text', (c) => c.notNull())
        .addColumn('generation', 'integer', (c) => c.notNull())
        .addColumn('pinned', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('tag_state_pk', ['upstream', 'repository', 'tag', 'kind'])
        .execute();

      await db.schema
        .createTable('index_children')
        .addColumn('index_digest', 'text', (c) => c.notNull())
        .addColumn('child_digest', 'text', (c) => c.notNull())
        .addColumn('media_type', 'text', (c) => c.notNull())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('index_children_pk', ['index_digest', 'child_digest'])
        .execute();

      await idColumn(dialect, db.schema.createTable('alerts'))
        .addColumn('upstream', 'text', (c) => c.notNull())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('tag', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('generation', 'integer', (c) => c.notNull())
        .addColumn('old_digest', 'text', (c) => c.notNull())
        .addColumn('new_digest', 'text', (c) => c.notNull())
        .addColumn('old_media_type', 'text', (c) => c.notNull())
        .addColumn('new_media_type', 'text', (c) => c.notNull())
        .addColumn('old_first_seen', 'text')
        .addColumn('old_last_seen', 'text')
        .addColumn('new_first_seen', 'text')
        .addColumn('new_last_seen', 'text')
        .addColumn('diff', 'text', (c) => c.notNull())
        .addColumn('decision', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        // One mutation (this tag, since this approval, to this digest) is one alert, whichever replica or
        // client saw it first: the database refuses the second insert, no process-local check is trusted.
        .addUniqueConstraint('alerts_one_per_mutation', [
          'upstream',
          'repository',
          'tag',
          'kind',
          'generation',
          'new_digest',
        ])
        .execute();
      await db.schema.createIndex('alerts_status_idx').on('alerts').columns(['status', 'id']).execute();

      await idColumn(dialect, db.schema.createTable('reviews'))
        .addColumn('alert_id', 'integer', (c) => c.notNull().references('alerts.id'))
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('reviewer', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('reviews_alert_idx').on('reviews').column('alert_id').execute();

      await idColumn(dialect, db.schema.createTable('outbox'))
        .addColumn('receiver', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('alert_id', 'integer', (c) => c.notNull().references('alerts.id'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('claimed_until', 'text')
        .addColumn('claim_token', 'text')
        .addColumn('delivered_at', 'text')
        .addColumn('last_error', 'text')
        // One event per receiver, however many replicas enqueue it.
        .addUniqueConstraint('outbox_once_per_receiver', ['receiver', 'format', 'event', 'alert_id'])
        .execute();
      await db.schema
        .createIndex('outbox_due_idx')
        .on('outbox')
        .columns(['delivered_at', 'next_attempt_at'])
        .execute();
    },
  };
}

/**
 * Image configs the policy gate allowed for a client: the blob route serves a config asked for by digest alone
 * to a client the gate allowed it for, on any replica and after a restart, and judges it otherwise.
 */
const configAllowances: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('config_allowances')
      .addColumn('upstream', 'text', (c) => c.notNull())
      .addColumn('repository', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('policy_version', 'text', (c) => c.notNull())
      .addColumn('client', 'text', (c) => c.notNull())
      .addColumn('allowed_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('config_allowances_pk', [
        'upstream',
        'repository',
        'digest',
        'policy_version',
        'client',
      ])
      .execute();
  },
};

/**
 * Outbox rows for events that are not about an alert (`log.checkpoint`): `alert_id` may be null and `payload`
 * carries the event's own body (JSON). SQLite cannot drop a NOT NULL constraint, so its table is rebuilt
 * (https://www.sqlite.org/lang_altertable.html#otheralter); PostgreSQL alters it in place.
 */
function outboxPayload(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect === 'postgres') {
        await sql`alter table outbox alter column alert_id drop not null`.execute(db);
        await sql`alter table outbox add column payload text`.execute(db);
        return;
      }
      await idColumn(dialect, db.schema.createTable('outbox_new'))
        .addColumn('receiver', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('alert_id', 'integer', (c) => c.references('alerts.id'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('claimed_until', 'text')
        .addColumn('claim_token', 'text')
        .addColumn('delivered_at', 'text')
        .addColumn('last_error', 'text')
        .addColumn('payload', 'text')
        .addUniqueConstraint('outbox_once_per_receiver', ['receiver', 'format', 'event', 'alert_id'])
        .execute();
      await sql`insert into outbox_new (id, receiver, format, event, alert_id, created_at, attempts,
        next_attempt_at, claimed_until, claim_token, delivered_at, last_error)
        select id, receiver, format, event, alert_id, created_at, attempts, next_attempt_at, claimed_until,
        claim_token, delivered_at, last_error from outbox`.execute(db);
      await db.schema.dropTable('outbox').execute();
      await db.schema.alterTable('outbox_new').renameTo('outbox').execute();
      await db.schema
        .createIndex('outbox_due_idx')
        .on('outbox')
        .columns(['delivered_at', 'next_attempt_at'])
        .execute();
    },
  };
}

/**
 * Named reviewers (issue 12): personal API tokens and console sessions, both stored as sha256 of the secret (the
 * secret itself is shown once and never kept), and how each review was authenticated.
 */
function reviewers(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await idColumn(dialect, db.schema.createTable('api_tokens'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('revoked_at', 'text')
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .execute();
      // Reviews written before this migration were made with the shared admin token and a typed name.
      await db.schema
        .alterTable('reviews')
        .addColumn('auth', 'text', (c) => c.notNull().defaultTo('typed-name'))
        .execute();
    },
  };
}

/**
 * Images served with warnings (audit mode), one row per image and policy version: the first pull of each sends one
 * `image.warned` webhook event (an outbox row with its payload), since clients print no Warning header (issue 17).
 */
function warnedImages(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await idColumn(dialect, db.schema.createTable('warned_images'))
        .addColumn('upstream', 'text', (c) => c.notNull())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('reference', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('policy_version', 'text', (c) => c.notNull())
        .addColumn('findings', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'text', (c) => c.notNull())
        // One notice per image and policy version, whichever replica served it first.
        .addUniqueConstraint('warned_images_once', ['upstream', 'repository', 'digest', 'policy_version'])
        .execute();
    },
  };
}

/**
 * The decision index: every record every replica's decision log holds, keyed by (replica, seq), so any replica
 * answers decision queries for all. Derived from the log files (they stay the record): rebuilt with
 * `pullgate log reindex`. `digests` and `rules` hold space-delimited lists (` a b `) so one LIKE matches a member on
 * both databases; `record` is the record as written, returned as is.
 */
function decisionIndex(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('decision_index')
        .addColumn('replica', 'text', (c) => c.notNull())
        .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('repository', 'text')
        .addColumn('decision', 'text')
        .addColumn('client_address', 'text')
        .addColumn('client_user', 'text')
        .addColumn('digests', 'text')
        .addColumn('rules', 'text')
        .addColumn('record', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('decision_index_pk', ['replica', 'seq'])
        .execute();
      // Newest first across replicas, the cursor's order; and the common filtered query (repository [+ decision]).
      await db.schema
        .createIndex('decision_index_time_idx')
        .on('decision_index')
        .columns(['time', 'replica', 'seq'])
        .execute();
      await db.schema
        .createIndex('decision_index_repository_idx')
        .on('decision_index')
        .columns(['repository', 'decision', 'time'])
        .execute();
    },
  };
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    getMigrations: async () => ({
      '0001_initial': initial(dialect),
      '0002_config_allowances': configAllowances,
      '0003_outbox_payload': outboxPayload(dialect),
      '0004_reviewers': reviewers(dialect),
      '0005_warned_images': warnedImages(dialect),
      '0006_decision_index': decisionIndex(dialect),
    }),
  };
}
