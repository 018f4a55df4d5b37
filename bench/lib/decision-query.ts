/**
 * The decision query's latency as the log grows (issue 11): a filtered first page (repository + decision, limit 50)
 * answered by today's file scan (`queryDecisions` over the JSON Lines files) and by the store's decision index, on
 * SQLite and on PostgreSQL. Each size's log is written once with the real writer and indexed into both stores with the
 * real indexer (`reindex`, what `pullgate log reindex` runs).
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CompiledQuery, type KyselyPlugin, type RootOperationNode } from 'kysely';
import { AuditIndexer } from '../../src/audit/indexer.js';
import { queryDecisions } from '../../src/audit/query.js';
import type { DecisionInput } from '../../src/audit/record.js';
import { AuditLog } from '../../src/audit/writer.js';
import { DecisionIndex } from '../../src/store/decision-index.js';
import { openStore, type Store } from '../../src/store/open.js';
import { startPostgres } from '../../test/helpers/postgres.js';
import { makeTempDir } from '../../test/helpers/tmp.js';

export type StoreKind = 'sqlite' | 'postgres';
export const STORE_KINDS: readonly StoreKind[] = ['sqlite', 'postgres'];
export const STORE_LABEL: Record<StoreKind, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

export interface QueryTiming {
  p50Ms: number;
  p95Ms: number;
  runs: number;
}

/** `page`: the query, 1% of the log matches; `none`: no record matches, so the file scan reads every file. */
export type QueryKind = 'page' | 'none';
export const QUERY_KINDS: readonly QueryKind[] = ['page', 'none'];

export interface QueryResult {
  scan: QueryTiming;
  index: Partial<Record<StoreKind, QueryTiming>>;
}

export interface DecisionSizeResult {
  records: number;
  /** The log's bytes on disk (every file). */
  logBytes: number;
  /** Writing the log with the real writer (once, shared by both stores). */
  writeS: number;
  reindexS: Partial<Record<StoreKind, number>>;
  queries: Record<QueryKind, QueryResult>;
}

export interface DecisionQueryResults {
  filters: Record<QueryKind, string>;
  sizes: DecisionSizeResult[];
  /** The store's plan for the indexed query at the largest size. */
  explain: Partial<Record<StoreKind, string>>;
  storeErrors: Partial<Record<StoreKind, string>>;
  durationS: number;
}

export interface DecisionQueryOptions {
  sizes: number[];
  /** Runs of the indexed query per size and store. */
  indexRuns: number;
  /** Most runs of the file scan per size; fewer when one scan is slow (`scanBudgetMs`), never fewer than 3. */
  scanRuns: number;
  /** Time the file scan's runs may take at one size. */
  scanBudgetMs: number;
  stores: readonly StoreKind[];
  log(msg: string): void;
}

export function decisionQuerySettings(quick: boolean, sizes?: number[]): Omit<DecisionQueryOptions, 'log'> {
  return {
    sizes: sizes ?? (quick ? [1_000, 10_000, 100_000] : [10_000, 100_000, 1_000_000]),
    indexRuns: 50,
    scanRuns: 20,
    scanBudgetMs: 10_000,
    stores: STORE_KINDS,
  };
}

const REPOS = Array.from({ length: 50 }, (_, i) => `library/app-${i}`);
const DIGEST = `sha256:${'c'.repeat(64)}`;
const FILTERS: Record<QueryKind, { repository: string; decision: 'deny'; limit: number }> = {
  page: { repository: 'library/app-7', decision: 'deny', limit: 50 },
  // A repository no record names: nothing matches, the file scan reads the whole log to say so.
  none: { repository: 'library/absent', decision: 'deny', limit: 50 },
};
/** A record's time step: 1,000 pulls a minute, the load (10^6 records span about 17 hours). */
const STEP_MS = 60;

/** Records spread over 50 repositories, one in twenty denied: the filtered query matches 1% of the log. */
function record(n: number): DecisionInput {
  const deny = n % 20 === 7;
  return {
    type: 'decision',
    requestId: `req-${n}`,
    client: { address: `10.0.${(n >> 8) & 255}.${n & 255}`, userAgent: 'containerd/1.7' },
    method: n % 3 === 0 ? 'GET' : 'HEAD',
    upstream: 'https://registry-1.docker.io',
    repository: REPOS[n % REPOS.length] ?? 'library/app',
    reference: 'latest',
    digest: DIGEST,
    decision: deny ? 'deny' : 'allow',
    decisionSource: n % 2 === 0 ? 'cache' : 'fresh',
    findings: deny ? [{ rule: 'run-as-root', message: 'the image runs as root', mode: 'enforce' }] : [],
    policy: { name: 'default', version: '2026-01-01.1' },
    source: 'cache',
    durationMs: 1.5,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** One untimed run first (its answer is returned, for the agreement check), then `runs` timed ones. */
async function time<T>(
  maxRuns: number,
  budgetMs: number,
  fn: () => Promise<T>,
): Promise<{ timing: QueryTiming; answer: T }> {
  const first = performance.now();
  const answer = await fn();
  const firstMs = performance.now() - first;
  const runs = Math.max(3, Math.min(maxRuns, Math.floor(budgetMs / Math.max(firstMs, 0.001))));
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { timing: { p50Ms: percentile(samples, 50), p95Ms: percentile(samples, 95), runs }, answer };
}

/** Writes `size` records with the real writer, in bursts of 1000 concurrent appends (group commit batches them). */
async function writeLog(dir: string, size: number): Promise<void> {
  const base = Date.now() - size * STEP_MS;
  let n = 0;
  // The clock is read once per record (and for file age): each call moves it one step.
  const log = await AuditLog.open({ dir, now: () => new Date(base + n++ * STEP_MS) });
  try {
    for (let done = 0; done < size; ) {
      const burst = Math.min(1000, size - done);
      await Promise.all(Array.from({ length: burst }, (_, i) => log.append(record(done + i))));
      done += burst;
    }
  } finally {
    await log.close();
  }
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

/** Keeps the last SELECT a Kysely instance runs, so the index's own query can be explained as it was sent. */
class LastSelect implements KyselyPlugin {
  node: RootOperationNode | undefined;
  transformQuery(args: { node: RootOperationNode }): RootOperationNode {
    if (args.node.kind === 'SelectQueryNode') this.node = args.node;
    return args.node;
  }
  async transformResult<R>(args: { result: R }): Promise<R> {
    return args.result;
  }
}

async function explain(store: Store, capture: LastSelect): Promise<string> {
  if (capture.node === undefined) return '(no query captured)';
  const compiled = store.db.getExecutor().compileQuery(capture.node, { queryId: 'explain' } as never);
  const prefix =
    store.dialect === 'postgres' ? 'EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ' : 'EXPLAIN QUERY PLAN ';
  const result = await store.db.executeQuery<Record<string, unknown>>(
    CompiledQuery.raw(`${prefix}${compiled.sql}`, [...compiled.parameters]),
  );
  const lines =
    store.dialect === 'postgres'
      ? result.rows.map((r) => String(r['QUERY PLAN']))
      : result.rows.map((r) => `${String(r.detail)}`);
  return [compiled.sql, ...lines].join('\n');
}

function noTiming(): QueryTiming {
  return { p50Ms: Number.NaN, p95Ms: Number.NaN, runs: 0 };
}

function pageSeqs(records: readonly { seq: number }[]): string {
  return JSON.stringify(records.map((r) => r.seq));
}

export async function decisionQueryPhase(opts: DecisionQueryOptions): Promise<DecisionQueryResults> {
  const started = performance.now();
  const out: DecisionQueryResults = {
    filters: {
      page: `repository = ${FILTERS.page.repository}, decision = ${FILTERS.page.decision}, first page of ${FILTERS.page.limit} (1% of the log matches)`,
      none: `repository = ${FILTERS.none.repository}, decision = ${FILTERS.none.decision} (no record matches)`,
    },
    sizes: [],
    explain: {},
    storeErrors: {},
    durationS: 0,
  };
  await using tmp = await makeTempDir('bench-decisions');
  const postgres = opts.stores.includes('postgres') ? await startPostgres() : undefined;
  try {
    const databaseUrl = await postgres?.createDatabase('bench_decisions');
    const stores = new Map<StoreKind, { store: Store; capture: LastSelect }>();
    for (const kind of opts.stores) {
      try {
        const store = await openStore({
          dataDir: join(tmp.path, 'sqlite'),
          databaseUrl: kind === 'postgres' ? databaseUrl : undefined,
        });
        stores.set(kind, { store, capture: new LastSelect() });
      } catch (e) {
        out.storeErrors[kind] = e instanceof Error ? e.message : String(e);
        opts.log(`decisions: ${kind} store did not open: ${out.storeErrors[kind]}`);
      }
    }
    try {
      const largest = Math.max(...opts.sizes);
      for (const size of opts.sizes) {
        const dir = join(tmp.path, `audit-${size}`);
        const writeStart = performance.now();
        await writeLog(dir, size);
        const writeS = (performance.now() - writeStart) / 1000;
        const logBytes = await dirBytes(dir);
        opts.log(
          `decisions ${size}: log written in ${writeS.toFixed(1)} s (${(logBytes / 1048576).toFixed(0)} MiB)`,
        );
        const row: DecisionSizeResult = {
          records: size,
          logBytes,
          writeS,
          reindexS: {},
          queries: { page: { scan: noTiming(), index: {} }, none: { scan: noTiming(), index: {} } },
        };
        const scanned = new Map<QueryKind, string>();
        for (const q of QUERY_KINDS) {
          const scan = await time(opts.scanRuns, opts.scanBudgetMs, () => queryDecisions(dir, FILTERS[q]));
          const expected = q === 'page' ? FILTERS.page.limit : 0;
          if (scan.answer.records.length !== expected)
            throw new Error(`the file scan found ${scan.answer.records.length} records at ${size} (${q})`);
          row.queries[q].scan = scan.timing;
          scanned.set(q, pageSeqs(scan.answer.records));
          opts.log(
            `decisions ${size} ${q}: file scan p50 ${scan.timing.p50Ms.toFixed(1)} ms (${scan.timing.runs} runs)`,
          );
        }
        for (const [kind, { store, capture }] of stores) {
          await store.db.deleteFrom('decision_index').execute();
          const index = new DecisionIndex(store.db.withPlugin(capture));
          const indexStart = performance.now();
          const indexed = await new AuditIndexer({ index, replica: 'bench', dir }).reindex();
          row.reindexS[kind] = (performance.now() - indexStart) / 1000;
          if (indexed !== size) throw new Error(`${kind}: reindex indexed ${indexed} of ${size} records`);
          for (const q of QUERY_KINDS) {
            const t = await time(opts.indexRuns, Number.POSITIVE_INFINITY, () =>
              index.queryDecisions(FILTERS[q]),
            );
            // Both must answer the same page, or the comparison means nothing.
            if (pageSeqs(t.answer.records) !== scanned.get(q))
              throw new Error(`${kind}: the file scan and the index disagree at ${size} records (${q})`);
            row.queries[q].index[kind] = t.timing;
            if (size === largest && q === 'page') out.explain[kind] = await explain(store, capture);
            opts.log(
              `decisions ${size} ${kind} ${q}: index p50 ${t.timing.p50Ms.toFixed(2)} ms p95 ${t.timing.p95Ms.toFixed(2)} ms`,
            );
          }
          opts.log(`decisions ${size} ${kind}: reindex ${row.reindexS[kind]?.toFixed(1)} s`);
        }
        out.sizes.push(row);
        // The next size writes its own log: this one's disk is given back now (10^6 records are about 1 GB).
        await rm(dir, { recursive: true, force: true });
      }
    } finally {
      for (const { store } of stores.values()) await store.close();
    }
  } finally {
    await postgres?.stop();
  }
  out.durationS = (performance.now() - started) / 1000;
  return out;
}
