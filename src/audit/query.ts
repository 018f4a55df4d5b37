import { join } from 'node:path';
import { parseChainedLine } from './chain.js';
import { isErrno, listLogFiles, readFileLines } from './files.js';
import {
  type AuditRecord,
  type AuditRecordType,
  auditRecordSchema,
  type Decision,
  type DecisionRecord,
} from './record.js';

// Queries read the JSON Lines files themselves (they are the record), newest first: reviewers ask
// "what happened lately to this image". Each file is streamed once, keeping at most limit + 1
// matches in memory; pagination is by seq, so a page boundary is stable while the log grows.

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 50;

export interface RecordFilters {
  /** Record types to return; default all. */
  types?: readonly AuditRecordType[];
  /** Exact repository, e.g. `library/nginx`. */
  repository?: string;
  /** Matches the decision's manifest, its index, or any platform manifest judged. */
  digest?: string;
  decision?: Decision;
  /** A rule id that produced a finding. */
  rule?: string;
  /** The client's address or authenticated name. */
  client?: string;
  /** Inclusive. */
  since?: Date | string;
  /** Exclusive. */
  until?: Date | string;
  /** 1..1000, default 50. */
  limit?: number;
  /** `nextCursor` from the previous page. */
  cursor?: string;
}

export type DecisionFilters = Omit<RecordFilters, 'types'>;

export interface RecordPage<T extends AuditRecord = AuditRecord> {
  records: T[];
  /** Present when older matching records may exist. */
  nextCursor?: string;
}

export class InvalidQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidQueryError';
  }
}

export function encodeCursor(beforeSeq: number): string {
  return Buffer.from(JSON.stringify({ before: beforeSeq }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): number {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const before = (parsed as { before?: unknown } | null)?.before;
    if (typeof before === 'number' && Number.isSafeInteger(before) && before > 0) return before;
  } catch {
    // falls through to the error below
  }
  throw new InvalidQueryError('invalid cursor');
}

function toMs(value: Date | string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidQueryError(`invalid ${name}: expected an ISO 8601 time`);
  return ms;
}

type Predicate = (r: Record<string, unknown>) => boolean;

function buildPredicate(filters: RecordFilters): Predicate {
  const tests: Predicate[] = [];
  const { types, repository, digest, decision, rule, client } = filters;
  if (types !== undefined) tests.push((r) => types.includes(r.type as AuditRecordType));
  if (repository !== undefined) tests.push((r) => r.repository === repository);
  if (decision !== undefined) tests.push((r) => r.decision === decision);
  if (digest !== undefined) {
    tests.push(
      (r) =>
        r.digest === digest ||
        r.indexDigest === digest ||
        (Array.isArray(r.manifestDigests) && r.manifestDigests.includes(digest)),
    );
  }
  if (rule !== undefined) {
    tests.push(
      (r) =>
        r.rule === rule ||
        (Array.isArray(r.findings) &&
          r.findings.some((f) => (f as { rule?: unknown } | null)?.rule === rule)),
    );
  }
  if (client !== undefined) {
    tests.push((r) => {
      const c = r.client as { address?: unknown; user?: unknown } | undefined;
      return c?.address === client || c?.user === client;
    });
  }
  const since = toMs(filters.since, 'since');
  const until = toMs(filters.until, 'until');
  if (since !== undefined || until !== undefined) {
    tests.push((r) => {
      const t = Date.parse(String(r.time));
      return (since === undefined || t >= since) && (until === undefined || t < until);
    });
  }
  return (r) => tests.every((t) => t(r));
}

export async function queryRecords(dir: string, filters: RecordFilters = {}): Promise<RecordPage> {
  const limit = filters.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new InvalidQueryError(`invalid limit: expected 1..${MAX_LIMIT}`);
  }
  const before = filters.cursor === undefined ? Number.POSITIVE_INFINITY : decodeCursor(filters.cursor);
  const matches = buildPredicate(filters);
  const files = await listLogFiles(dir);

  const found: AuditRecord[] = [];
  for (let i = files.length - 1; i >= 0 && found.length <= limit; i--) {
    const f = files[i];
    if (f === undefined || f.firstSeq >= before) continue;
    // This file's newest matches, oldest first, at most as many as the page still needs.
    const need = limit + 1 - found.length;
    const window: AuditRecord[] = [];
    try {
      for await (const line of readFileLines(join(dir, f.name))) {
        // An unterminated last line is a write in progress (or a crash's leftover): not a record yet.
        if (!line.terminated) break;
        const raw = parseChainedLine(line.text);
        if (raw === undefined || raw.seq >= before || !matches(raw)) continue;
        const parsed = auditRecordSchema.safeParse(raw);
        if (!parsed.success) continue;
        window.push(parsed.data);
        // Trimmed in bulk, not per record, so a file full of matches costs amortised O(1) each.
        if (window.length >= 2 * need) window.splice(0, window.length - need);
      }
    } catch (err) {
      // Retention deleted the file between listing and reading: its records are gone by design.
      if (isErrno(err, 'ENOENT')) continue;
      throw err;
    }
    found.push(...window.slice(-need).reverse());
  }

  const records = found.slice(0, limit);
  const last = records[records.length - 1];
  return found.length > limit && last !== undefined
    ? { records, nextCursor: encodeCursor(last.seq) }
    : { records };
}

export async function queryDecisions(
  dir: string,
  filters: DecisionFilters = {},
): Promise<RecordPage<DecisionRecord>> {
  const page = await queryRecords(dir, { ...filters, types: ['decision'] });
  const records = page.records.filter((r): r is DecisionRecord => r.type === 'decision');
  return page.nextCursor === undefined ? { records } : { records, nextCursor: page.nextCursor };
}
