import { type Kysely, PostgresAdapter, sql } from 'kysely';
import {
  DEFAULT_LIMIT,
  type DecisionFilters,
  InvalidQueryError,
  MAX_LIMIT,
  type RecordFilters,
} from '../audit/query.js';
import { type AuditRecord, auditRecordSchema, type DecisionRecord } from '../audit/record.js';
import type { Database, DecisionIndexTable } from './schema.js';

/** A record as the index returns it: as written, plus the replica whose log holds it. */
export type IndexedRecord<T extends AuditRecord = AuditRecord> = T & { replica: string };

export interface IndexedPage<T extends AuditRecord = AuditRecord> {
  records: IndexedRecord<T>[];
  /** Present when older matching records may exist. */
  nextCursor?: string;
}

/** The cursor's position: the last record of a page, in the order (time, replica, seq) newest first. */
interface Position {
  time: string;
  replica: string;
  seq: number;
}

export function encodeIndexCursor(p: Position): string {
  return Buffer.from(JSON.stringify({ t: p.time, r: p.replica, s: p.seq }), 'utf8').toString('base64url');
}

export function decodeIndexCursor(cursor: string): Position {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    const { t, r, s } = parsed ?? {};
    if (
      typeof t === 'string' &&
      !Number.isNaN(Date.parse(t)) &&
      typeof r === 'string' &&
      typeof s === 'number' &&
      Number.isSafeInteger(s) &&
      s > 0
    ) {
      return { time: t, replica: r, seq: s };
    }
  } catch {
    // falls through to the error below
  }
  throw new InvalidQueryError('invalid cursor');
}

function isoTime(value: Date | string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidQueryError(`invalid ${name}: expected an ISO 8601 time`);
  return new Date(ms).toISOString();
}

/** A LIKE pattern matching ` value ` inside a space-delimited list, wildcards in the value escaped. */
function memberPattern(value: string): string {
  return `% ${value.replace(/[!%_]/g, (c) => `!${c}`)} %`;
}

function list(values: readonly unknown[]): string | null {
  const words = values.filter((v): v is string => typeof v === 'string' && v !== '' && !/\s/.test(v));
  return words.length === 0 ? null : ` ${[...new Set(words)].join(' ')} `;
}

/** The row for one record: the columns the filters of `queryRecords` read, and the record itself. */
export function indexRow(replica: string, record: AuditRecord): DecisionIndexTable {
  const r = record as unknown as Record<string, unknown>;
  const client = r.client as { address?: unknown; user?: unknown } | undefined;
  const findings = Array.isArray(r.findings) ? r.findings : [];
  return {
    replica,
    seq: record.seq,
    time: record.time,
    type: record.type,
    repository: typeof r.repository === 'string' ? r.repository : null,
    decision: typeof r.decision === 'string' ? r.decision : null,
    client_address: typeof client?.address === 'string' ? client.address : null,
    client_user: typeof client?.user === 'string' ? client.user : null,
    digests: list([r.digest, r.indexDigest, ...(Array.isArray(r.manifestDigests) ? r.manifestDigests : [])]),
    rules: list([r.rule, ...findings.map((f) => (f as { rule?: unknown } | null)?.rule)]),
    record: JSON.stringify(record),
  };
}

/** Rows per INSERT: well under SQLite's 32766 bound variables (11 a row) and PostgreSQL's 65535. */
const INSERT_ROWS = 500;

/** The decision_index table: every query about it is here. */
export class DecisionIndex {
  constructor(private readonly db: Kysely<Database>) {}

  /** Indexes records; ones already indexed (a catch-up overlapping the live feed) are left as they are. */
  async insert(replica: string, records: readonly AuditRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += INSERT_ROWS) {
      const rows = records.slice(i, i + INSERT_ROWS).map((r) => indexRow(replica, r));
      await this.db
        .insertInto('decision_index')
        .values(rows)
        .onConflict((oc) => oc.columns(['replica', 'seq']).doNothing())
        .execute();
    }
  }

  /** The highest seq indexed for a replica; 0 when none. */
  async maxSeq(replica: string): Promise<number> {
    const row = await this.db
      .selectFrom('decision_index')
      .select((eb) => eb.fn.max('seq').as('max'))
      .where('replica', '=', replica)
      .executeTakeFirst();
    return row?.max === null || row?.max === undefined ? 0 : Number(row.max);
  }

  async deleteReplica(replica: string): Promise<void> {
    await this.db.deleteFrom('decision_index').where('replica', '=', replica).execute();
  }

  /**
   * PostgreSQL: ANALYZE, after `pullgate log reindex`. Until autovacuum's next analyze the planner has no statistics
   * for the rows just loaded, guesses that a repository + decision filter matches a row or two, and reads and sorts
   * every match instead of walking the (repository, decision, time) index from the newest: at 10^6 records with 1%
   * matching, a first page took ~45-60 ms instead of ~1 ms (bench §10 with autovacuum held off). SQLite keeps no
   * statistics unless asked, and its plan does not depend on them here.
   */
  async refreshStatistics(): Promise<void> {
    if (this.db.getExecutor().adapter instanceof PostgresAdapter) {
      await sql`analyze decision_index`.execute(this.db);
    }
  }

  /** Drops one replica's rows with a seq up to `through` (a range of the primary key). */
  async deleteThrough(replica: string, through: number): Promise<void> {
    await this.db
      .deleteFrom('decision_index')
      .where('replica', '=', replica)
      .where('seq', '<=', through)
      .execute();
  }

  /** Every replica's records, newest first (time, then replica, then seq), with `queryRecords`' filters. */
  async query(filters: RecordFilters = {}): Promise<IndexedPage> {
    const limit = filters.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new InvalidQueryError(`invalid limit: expected 1..${MAX_LIMIT}`);
    }
    const since = isoTime(filters.since, 'since');
    const until = isoTime(filters.until, 'until');
    const after = filters.cursor === undefined ? undefined : decodeIndexCursor(filters.cursor);

    let q = this.db.selectFrom('decision_index').select(['replica', 'seq', 'time', 'record']);
    if (filters.types !== undefined)
      q = q.where('type', 'in', filters.types.length > 0 ? filters.types : ['']);
    if (filters.repository !== undefined) q = q.where('repository', '=', filters.repository);
    if (filters.decision !== undefined) q = q.where('decision', '=', filters.decision);
    if (filters.digest !== undefined) {
      q = q.where(sql<boolean>`digests like ${memberPattern(filters.digest)} escape '!'`);
    }
    if (filters.rule !== undefined) {
      q = q.where(sql<boolean>`rules like ${memberPattern(filters.rule)} escape '!'`);
    }
    const client = filters.client;
    if (client !== undefined) {
      q = q.where((eb) => eb.or([eb('client_address', '=', client), eb('client_user', '=', client)]));
    }
    if (since !== undefined) q = q.where('time', '>=', since);
    if (until !== undefined) q = q.where('time', '<', until);
    if (after !== undefined) {
      q = q.where((eb) =>
        eb.or([
          eb('time', '<', after.time),
          eb.and([eb('time', '=', after.time), eb('replica', '<', after.replica)]),
          eb.and([eb('time', '=', after.time), eb('replica', '=', after.replica), eb('seq', '<', after.seq)]),
        ]),
      );
    }
    const rows = await q
      .orderBy('time', 'desc')
      .orderBy('replica', 'desc')
      .orderBy('seq', 'desc')
      .limit(limit + 1)
      .execute();

    const records: IndexedRecord[] = [];
    for (const row of rows.slice(0, limit)) {
      const parsed = auditRecordSchema.safeParse(JSON.parse(row.record));
      // A row this version cannot read (written by a newer one) is left out, as the file query leaves out lines.
      if (parsed.success) records.push({ ...parsed.data, replica: row.replica });
    }
    const last = rows[Math.min(rows.length, limit) - 1];
    return rows.length > limit && last !== undefined
      ? {
          records,
          nextCursor: encodeIndexCursor({ time: last.time, replica: last.replica, seq: Number(last.seq) }),
        }
      : { records };
  }

  /** One replica's decision record by its seq, or undefined (another type, or not indexed). */
  async decision(replica: string, seq: number): Promise<IndexedRecord<DecisionRecord> | undefined> {
    const row = await this.db
      .selectFrom('decision_index')
      .select(['replica', 'record'])
      .where('replica', '=', replica)
      .where('seq', '=', seq)
      .where('type', '=', 'decision')
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const parsed = auditRecordSchema.safeParse(JSON.parse(row.record));
    if (!parsed.success || parsed.data.type !== 'decision') return undefined;
    return { ...parsed.data, replica: row.replica };
  }

  async queryDecisions(filters: DecisionFilters = {}): Promise<IndexedPage<DecisionRecord>> {
    const page = await this.query({ ...filters, types: ['decision'] });
    const records = page.records.filter((r): r is IndexedRecord<DecisionRecord> => r.type === 'decision');
    return page.nextCursor === undefined ? { records } : { records, nextCursor: page.nextCursor };
  }
}
