import type { HeadIndexResults, IndexVariant, ManifestOnResults } from './decision-phases.js';
import { INDEX_VARIANTS } from './decision-phases.js';
import type { DecisionQueryResults, DecisionSizeResult, QueryKind, StoreKind } from './decision-query.js';
import { QUERY_KINDS, STORE_KINDS, STORE_LABEL } from './decision-query.js';
import { fmt, median, medianRatio, ratio } from './stats.js';

/** A row of the report's Targets table. */
export interface Target {
  section: string;
  measure: string;
  target: string;
  result: string;
  ok: boolean | undefined;
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const QUERY_LABEL: Record<QueryKind, string> = { page: '1% match', none: 'no match' };

function count(n: number): string {
  const exp = Math.log10(n);
  return Number.isInteger(exp) ? `10^${exp}` : n.toLocaleString('en-US');
}

/** The growth table: file scan against each store's index, and the index's p50 against its smallest size. */
export function renderDecisionQuery(
  r: DecisionQueryResults,
  section = '8',
): { section: string; targets: Target[] } {
  const stores = STORE_KINDS.filter((k) => r.sizes.some((s) => s.queries.page.index[k] !== undefined));
  const smallest = r.sizes[0];
  const largest = r.sizes[r.sizes.length - 1];
  const p50 = (size: DecisionSizeResult | undefined, q: QueryKind, k: StoreKind) =>
    size?.queries[q].index[k]?.p50Ms;
  const growth = (q: QueryKind, k: StoreKind, x: number | undefined) => {
    const base = p50(smallest, q, k);
    return x === undefined || base === undefined ? 'n/a' : `${(x / base).toFixed(2)}×`;
  };
  const rows = QUERY_KINDS.flatMap((q) =>
    r.sizes.map((s) => {
      const scan = s.queries[q].scan;
      return [
        QUERY_LABEL[q],
        count(s.records),
        `${(s.logBytes / 1048576).toFixed(0)} MiB`,
        `${fmt(scan.p50Ms, 1)} / ${fmt(scan.p95Ms, 1)} (${scan.runs} runs)`,
        ...stores.flatMap((k) => {
          const x = s.queries[q].index[k];
          return x === undefined
            ? ['n/a', 'n/a']
            : [`${fmt(x.p50Ms, 2)} / ${fmt(x.p95Ms, 2)}`, growth(q, k, x.p50Ms)];
        }),
      ];
    }),
  );
  const costRows = r.sizes.map((s) => [
    count(s.records),
    `${s.writeS.toFixed(1)} s`,
    ...stores.map((k) => {
      const x = s.reindexS[k];
      return x === undefined ? 'n/a' : `${x.toFixed(1)} s (${fmt(s.records / x, 0)} records/s)`;
    }),
  ]);
  const bounded = r.sizes.flatMap((s) => QUERY_KINDS.filter((q) => s.queries[q].scan.runs <= 3).map(() => s));
  const lines = [
    `## ${section}. Decision query latency as the log grows (ms, p50 / p95)`,
    '',
    `Queries: ${QUERY_KINDS.map((q) => `**${QUERY_LABEL[q]}**: ${r.filters[q]}`).join('; ')}. Answered by \`queryDecisions\` over the JSON Lines files (today's file scan: newest file first, stopping at the file that completes the page) and by the store's decision index (\`DecisionIndex.queryDecisions\`). Each size's log is written once with the real writer (records 60 ms apart, 1,000 pulls a minute; files rotate at 64 MiB) and indexed into each store with the real indexer (\`reindex\`, as \`pullgate log reindex\`); the scan's and the index's pages are checked to be the same records. The index's queries run ${smallest?.queries.page.index[stores[0] ?? 'sqlite']?.runs ?? 'n/a'} times per size; the file scan as often as fits in 10 s, at most 20 and never fewer than 3${bounded.length > 0 ? ' (where it shows 3 runs the scan was bounded and its p95 is the slowest of the 3)' : ''}. PostgreSQL: the Debian package in a temp dir, fsync off, autovacuum at its defaults; the reindex ends with ANALYZE there, as \`pullgate log reindex\` does (without it the plan depends on whether autovacuum has analyzed the fresh rows yet). Phase time: ${r.durationS.toFixed(0)} s.`,
    '',
    table(
      [
        'query',
        'records',
        'log on disk',
        'file scan',
        ...stores.flatMap((k) => [`${STORE_LABEL[k]} index`, `÷ ${count(smallest?.records ?? 0)}`]),
      ],
      rows,
    ),
    '',
    'Building the logs and the index:',
    '',
    table(['records', 'writing the log', ...stores.map((k) => `${STORE_LABEL[k]} reindex`)], costRows),
  ];
  for (const k of stores) {
    const plan = r.explain[k];
    if (plan === undefined) continue;
    lines.push(
      '',
      `${STORE_LABEL[k]} plan at ${count(largest?.records ?? 0)} records:`,
      '',
      '```',
      plan,
      '```',
    );
  }
  for (const k of STORE_KINDS) {
    const err = r.storeErrors[k];
    if (err !== undefined) lines.push('', `${STORE_LABEL[k]}: the store did not open: ${err}`);
  }
  const targets: Target[] = [];
  for (const k of stores) {
    const big = p50(largest, 'page', k);
    const small = p50(smallest, 'page', k);
    const x = big !== undefined && small !== undefined ? big / small : Number.NaN;
    targets.push(
      {
        section,
        measure: `decision query 1% match (index, ${STORE_LABEL[k]}) p50 at ${count(largest?.records ?? 0)} ÷ at ${count(smallest?.records ?? 0)} records`,
        target: '≤ 2×',
        result: Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a',
        ok: Number.isFinite(x) ? x <= 2 : undefined,
      },
      {
        section,
        measure: `decision query 1% match (index, ${STORE_LABEL[k]}) p50 at ${count(largest?.records ?? 0)} records`,
        target: '< 50 ms',
        result: big === undefined ? 'n/a' : `${fmt(big, 2)} ms`,
        ok: big === undefined ? undefined : big < 50,
      },
    );
  }
  for (const k of STORE_KINDS) {
    if (r.storeErrors[k] !== undefined)
      targets.push({
        section,
        measure: `decision query (index, ${STORE_LABEL[k]})`,
        target: 'measured',
        result: 'store did not open',
        ok: false,
      });
  }
  return { section: lines.join('\n'), targets };
}

const VARIANT_LABEL: Record<IndexVariant, string> = {
  'sqlite-off': 'SQLite store, log and index off',
  'sqlite-on': 'SQLite store, log and index on',
  'postgres-off': 'PostgreSQL store, log and index off',
  'postgres-on': 'PostgreSQL store, log and index on',
};

/** HEAD by tag @50: log + index on ÷ both off, per store. */
export function renderHeadIndex(h: HeadIndexResults, section = '8'): { section: string; targets: Target[] } {
  const off = (v: IndexVariant): IndexVariant => (v.startsWith('sqlite') ? 'sqlite-off' : 'postgres-off');
  const rows = INDEX_VARIANTS.map((v) => {
    const err = h.startErrors[v];
    const c = h.counts[v];
    return [
      VARIANT_LABEL[v],
      err === undefined ? fmt(median(h.rps[v])) : 'n/a',
      v.endsWith('-off') ? '1.00×' : ratio(medianRatio(h.rps[v], h.rps[off(v)])),
      err !== undefined
        ? `did not start: ${err}`
        : c === undefined
          ? ''
          : `${c.indexed.toLocaleString('en-US')} rows indexed for ${c.answered.toLocaleString('en-US')} HEADs answered`,
    ];
  });
  const targets: Target[] = (['sqlite', 'postgres'] as const).map((k) => {
    const x = medianRatio(h.rps[`${k}-on`], h.rps[`${k}-off`]);
    const failed = h.startErrors[`${k}-on`] !== undefined || h.startErrors[`${k}-off`] !== undefined;
    return {
      section,
      measure: `HEAD by tag @50, decision log + index on ÷ both off (${STORE_LABEL[k]})`,
      target: 'report (issue 11)',
      result: failed ? 'did not start' : ratio(x),
      ok: failed ? false : undefined,
    };
  });
  return {
    section: [
      `## ${section}. HEAD by tag at 50 connections — the decision log and the index on, against both off`,
      '',
      'Four pullgate processes side by side (policies off in all four), each warmed with one untimed 1 s run, then measured in turn each round. Log and index on: `PULLGATE_AUDIT_ENABLED=true`, every answer waits for its record to be on disk and the indexer inserts the records into the store in batches (`PULLGATE_AUDIT_INDEX_BATCH_MS`, 200 ms); off: `PULLGATE_AUDIT_ENABLED=false`. PostgreSQL: `PULLGATE_DATABASE_URL`, a fresh database on one server (the Debian package in a temp dir, fsync off) per process. Rows indexed are counted in each store a second after the last round: every record the process wrote (a decision per HEAD, the warm-up run included, plus the start and checkpoint records), so at least one per HEAD answered.',
      '',
      table(['pullgate', 'req/s @50', '÷ off (same store)', 'index'], rows),
    ].join('\n'),
    targets,
  };
}

/** Manifests by tag @50 with policies, the log and the index on, ÷ the distribution proxy. */
export function renderManifestOn(
  m: ManifestOnResults,
  section = '9',
): { section: string; targets: Target[] } {
  const label = {
    proxy: 'distribution proxy',
    sqlite: 'pullgate, SQLite store',
    postgres: 'pullgate, PostgreSQL store',
  };
  const rows = (['proxy', 'sqlite', 'postgres'] as const).map((t) => [
    label[t],
    m.startErrors[t] === undefined ? fmt(median(m.rps[t])) : `did not start: ${m.startErrors[t]}`,
    t === 'proxy' ? '1.00×' : ratio(medianRatio(m.rps[t], m.rps.proxy)),
  ]);
  const targets: Target[] = (['sqlite', 'postgres'] as const).map((k) => {
    const x = medianRatio(m.rps[k], m.rps.proxy);
    return {
      section,
      measure: `manifest GET by tag @50, everything on (${STORE_LABEL[k]}) ÷ distribution proxy`,
      target: '≥ 4× (issue 11)',
      result: ratio(x),
      ok: Number.isFinite(x) ? x >= 4 : false,
    };
  });
  return {
    section: [
      `## ${section}. Manifest GET by tag at 50 connections — pullgate with everything on, against the distribution proxy`,
      '',
      'pullgate with `PULLGATE_POLICY_ENABLED=true` (the default policy set, against which the image passes) and `PULLGATE_AUDIT_ENABLED=true` (decision log and index on), on each store; one untimed 1 s run per target, then interleaved rounds with the proxy, 1 body in 50 hashed and every `Docker-Content-Digest` checked.',
      '',
      table(['target', 'req/s @50', '÷ dist. proxy'], rows),
    ].join('\n'),
    targets,
  };
}
