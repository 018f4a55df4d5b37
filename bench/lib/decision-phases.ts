/**
 * Issue 11's request-path figures: HEAD by tag at 50 connections with the decision log and the store's decision index
 * on, against both off, on SQLite and on PostgreSQL; and manifests by tag through pullgate with everything on against
 * the distribution proxy. PostgreSQL is the Debian package in a temp dir (test/helpers/postgres.ts), one fresh
 * database per pullgate process.
 */

import { openStore } from '../../src/store/open.js';
import { type Postgres, startPostgres } from '../../test/helpers/postgres.js';
import { MANIFEST_ACCEPT } from './content.js';
import type { StoreKind } from './decision-query.js';
import { STORE_KINDS } from './decision-query.js';
import { runLoad } from './jobs.js';
import { type Ctx, startProxy, startPullgate } from './phases.js';

const MAX_REQUESTS = 500_000;
/** One untimed run per process before the rounds. */
const WARMUP_MS = 1000;

export type Toggle = 'off' | 'on';
export type IndexVariant = `${StoreKind}-${Toggle}`;
export const INDEX_VARIANTS: readonly IndexVariant[] = [
  'sqlite-off',
  'sqlite-on',
  'postgres-off',
  'postgres-on',
];

export interface IndexedCount {
  /** HEAD requests the load generator got an answer to, over every round. */
  answered: number;
  /** Rows in the process's decision_index once the load stopped and the indexer's batch window passed. */
  indexed: number;
}

export interface HeadIndexResults {
  rps: Record<IndexVariant, number[]>;
  counts: Partial<Record<IndexVariant, IndexedCount>>;
  startErrors: Partial<Record<IndexVariant, string>>;
}

export interface ManifestOnResults {
  /** req/s @50 per round: the distribution proxy, and pullgate with policies, the log and the index on, per store. */
  rps: Record<'proxy' | StoreKind, number[]>;
  startErrors: Partial<Record<'proxy' | StoreKind, string>>;
}

function startError(e: unknown): string {
  return e instanceof Error ? e.message.split('\n').slice(0, 6).join(' | ') : String(e);
}

/** The environment for one pullgate: the store (SQLite in its data dir, or a fresh PostgreSQL database) and toggles. */
async function storeEnv(kind: StoreKind, postgres: Postgres | undefined): Promise<Record<string, string>> {
  if (kind === 'sqlite') return {};
  if (postgres === undefined) throw new Error('no PostgreSQL');
  return { PULLGATE_DATABASE_URL: await postgres.createDatabase() };
}

async function indexedRows(dataDir: string, databaseUrl: string | undefined): Promise<number> {
  const store = await openStore({ dataDir, databaseUrl, poolSize: 1 });
  try {
    const row = await store.db
      .selectFrom('decision_index')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  } finally {
    await store.close();
  }
}

export async function headIndexPhase(ctx: Ctx): Promise<HeadIndexResults> {
  const { small } = ctx.content;
  const out: HeadIndexResults = {
    rps: { 'sqlite-off': [], 'sqlite-on': [], 'postgres-off': [], 'postgres-on': [] },
    counts: {},
    startErrors: {},
  };
  const postgres = await startPostgres();
  const running = new Map<
    IndexVariant,
    { pg: Awaited<ReturnType<typeof startPullgate>>; env: Record<string, string> }
  >();
  try {
    for (const v of INDEX_VARIANTS) {
      const [kind, toggle] = v.split('-') as [StoreKind, Toggle];
      try {
        const env = {
          ...(await storeEnv(kind, postgres)),
          PULLGATE_POLICY_ENABLED: 'false',
          PULLGATE_AUDIT_ENABLED: toggle === 'on' ? 'true' : 'false',
        };
        running.set(v, { pg: await startPullgate(ctx, env), env });
      } catch (e) {
        out.startErrors[v] = startError(e);
        ctx.log(`head-index: pullgate ${v} did not start: ${out.startErrors[v]}`);
      }
    }
    const job = (origin: string, durationMs: number) =>
      runLoad(ctx.root, {
        kind: 'throughput',
        origin,
        path: `/v2/${small.repo}/manifests/${small.tag}`,
        method: 'HEAD',
        headers: { accept: MANIFEST_ACCEPT },
        expectDigest: small.manifestDigest,
        connections: 50,
        durationMs,
        maxRequests: MAX_REQUESTS,
        verifyEvery: 1,
      });
    // Untimed: the JIT, the store's connections and the tag's first upstream fetch, before any process is measured.
    for (const { pg } of running.values()) await job(pg.url, WARMUP_MS);
    const answered = new Map<IndexVariant, number>();
    for (let r = 0; r < ctx.s.rounds; r++) {
      for (const [v, { pg }] of running) {
        const thr = await job(pg.url, ctx.s.throughputMs);
        out.rps[v].push(thr.rps);
        answered.set(v, (answered.get(v) ?? 0) + thr.requests - thr.errors);
        ctx.log(
          `head-index r${r + 1} ${v}: ${Math.round(thr.rps)} req/s${thr.errors > 0 ? ` (${thr.errors} errors: ${thr.firstError})` : ''}`,
        );
      }
    }
    // The indexer inserts every 200 ms (PULLGATE_AUDIT_INDEX_BATCH_MS): a second is several batch windows.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const [v, { pg, env }] of running) {
      if (!v.endsWith('-on')) continue;
      out.counts[v] = {
        answered: answered.get(v) ?? 0,
        indexed: await indexedRows(pg.dataDir, env.PULLGATE_DATABASE_URL),
      };
      ctx.log(
        `head-index ${v}: ${out.counts[v]?.indexed} rows indexed, ${out.counts[v]?.answered} HEADs answered`,
      );
    }
  } finally {
    for (const { pg } of running.values()) await pg.stop();
    await postgres.stop();
  }
  return out;
}

export async function manifestOnPhase(ctx: Ctx): Promise<ManifestOnResults> {
  const { small } = ctx.content;
  const out: ManifestOnResults = { rps: { proxy: [], sqlite: [], postgres: [] }, startErrors: {} };
  const postgres = await startPostgres();
  const origins = new Map<'proxy' | StoreKind, { url: string; stop(): Promise<void> }>();
  try {
    try {
      origins.set('proxy', await startProxy(ctx.upstream));
    } catch (e) {
      out.startErrors.proxy = startError(e);
    }
    for (const kind of STORE_KINDS) {
      try {
        const env = {
          ...(await storeEnv(kind, postgres)),
          PULLGATE_POLICY_ENABLED: 'true',
          PULLGATE_AUDIT_ENABLED: 'true',
        };
        origins.set(kind, await startPullgate(ctx, env));
      } catch (e) {
        out.startErrors[kind] = startError(e);
        ctx.log(`manifest-on: pullgate on ${kind} did not start: ${out.startErrors[kind]}`);
      }
    }
    const job = (origin: string, durationMs: number) =>
      runLoad(ctx.root, {
        kind: 'throughput',
        origin,
        path: `/v2/${small.repo}/manifests/${small.tag}`,
        method: 'GET',
        headers: { accept: MANIFEST_ACCEPT },
        expectDigest: small.manifestDigest,
        connections: 50,
        durationMs,
        maxRequests: MAX_REQUESTS,
        verifyEvery: 50,
      });
    for (const origin of origins.values()) await job(origin.url, WARMUP_MS);
    for (let r = 0; r < ctx.s.rounds; r++) {
      for (const [target, origin] of origins) {
        const thr = await job(origin.url, ctx.s.throughputMs);
        out.rps[target].push(thr.rps);
        ctx.log(
          `manifest-on r${r + 1} ${target}: ${Math.round(thr.rps)} req/s${thr.errors > 0 ? ` (${thr.errors} errors: ${thr.firstError})` : ''}`,
        );
      }
    }
  } finally {
    for (const o of origins.values()) await o.stop();
    await postgres.stop();
  }
  return out;
}
