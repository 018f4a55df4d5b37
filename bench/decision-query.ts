/**
 * `node --import tsx bench/decision-query.ts [--sizes 10000,100000,1000000] [--runs 20] [--database-url URL]`
 *
 * The decision query's latency as the log grows: a filtered first page (repository + decision, limit 50) answered by
 * today's file scan (`queryDecisions` over the JSON Lines files) and by the store's decision index (SQLite in a temp
 * dir, or PostgreSQL with --database-url: give an empty database, its index table is emptied). For each size the log
 * is written with the real writer, indexed with the real indexer (`reindex`), then each query runs `runs` times; the
 * table prints p50/p95 and the index's growth against the smallest size (target: within 2x at 10^6 of 10^4).
 * Not part of `npm run bench` nor of the tests: 10^6 records take minutes and about 1 GB of disk.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AuditIndexer } from '../src/audit/indexer.js';
import { queryDecisions } from '../src/audit/query.js';
import type { DecisionInput } from '../src/audit/record.js';
import { AuditLog } from '../src/audit/writer.js';
import { DecisionIndex } from '../src/store/decision-index.js';
import { openStore } from '../src/store/open.js';
import { makeTempDir } from '../test/helpers/tmp.js';

interface Args {
  sizes: number[];
  runs: number;
  databaseUrl: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { sizes: [10_000, 100_000, 1_000_000], runs: 20, databaseUrl: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--sizes') args.sizes = v.split(',').map(Number);
    else if (a === '--runs') args.runs = Number(v);
    else if (a === '--database-url') args.databaseUrl = v;
    else throw new Error(`unknown argument ${a}`);
  }
  if (args.sizes.some((n) => !Number.isSafeInteger(n) || n < 1))
    throw new Error('--sizes: positive integers');
  return args;
}

const REPOS = Array.from({ length: 50 }, (_, i) => `library/app-${i}`);
const DIGEST = `sha256:${'c'.repeat(64)}`;

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

async function time(runs: number, fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p95: percentile(samples, 95) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rows: string[] = [];
  let baseline: number | undefined;
  for (const size of args.sizes) {
    await using tmp = await makeTempDir('bench-decisions');
    const dir = join(tmp.path, 'audit');
    const log = await AuditLog.open({ dir });
    // Written in bursts of 1000 concurrent appends: group commit makes that a few writes each.
    for (let done = 0; done < size; ) {
      const burst = Math.min(1000, size - done);
      await Promise.all(Array.from({ length: burst }, (_, i) => log.append(record(done + i))));
      done += burst;
    }
    await log.close();
    const store = await openStore({ dataDir: tmp.path, databaseUrl: args.databaseUrl });
    try {
      await store.db.deleteFrom('decision_index').execute();
      const index = new DecisionIndex(store.db);
      const indexStart = performance.now();
      await new AuditIndexer({ index, replica: 'bench', dir }).reindex();
      const indexSeconds = (performance.now() - indexStart) / 1000;
      const filters = { repository: 'library/app-7', decision: 'deny' as const, limit: 50 };
      const scan = await time(Math.max(3, Math.floor(args.runs / 4)), () => queryDecisions(dir, filters));
      const indexed = await time(args.runs, () => index.queryDecisions(filters));
      const [fromScan, fromIndex] = [await queryDecisions(dir, filters), await index.queryDecisions(filters)];
      // Both must answer the same page, or the comparison means nothing.
      if (
        JSON.stringify(fromScan.records.map((r) => r.seq)) !==
        JSON.stringify(fromIndex.records.map((r) => r.seq))
      ) {
        throw new Error(`the file scan and the index disagree at ${size} records`);
      }
      baseline ??= indexed.p50;
      rows.push(
        `| ${size.toLocaleString('en')} | ${scan.p50.toFixed(1)} | ${scan.p95.toFixed(1)} | ${indexed.p50.toFixed(2)} | ${indexed.p95.toFixed(2)} | ${(indexed.p50 / baseline).toFixed(2)}x | ${indexSeconds.toFixed(1)} s |`,
      );
      process.stderr.write(`${size} records done\n`);
    } finally {
      await store.close();
    }
  }
  process.stdout.write(
    [
      `Decision query, repository + decision, first page of 50 (${args.databaseUrl === undefined ? 'SQLite' : 'PostgreSQL'}), ms`,
      '',
      '| records | file scan p50 | file scan p95 | index p50 | index p95 | index p50 vs smallest | reindex |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
    ].join('\n'),
  );
}

await main();
