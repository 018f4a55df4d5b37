import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type BlobFile, makeRandomFile, pushBlob } from './content.js';
import { runLoad } from './jobs.js';
import type { Ctx } from './phases.js';
import { startProxy, startPullgate } from './phases.js';
import { fmt, max, median, medianRatio, mib, ratio } from './stats.js';

/**
 * Issue 16: cold pulls, the pull users wait for. Every cold figure is a blob the target has never seen, fetched once,
 * side by side with the distribution proxy in the same round:
 * - running: a pullgate (and a proxy) that has already served other blobs, each round a newly pushed blob;
 * - fresh: a freshly started pullgate (and proxy) on an empty data dir;
 * - 8 concurrent streams of one new blob on fresh processes;
 * - warm: the running pullgate's second fetch of the blob, against the upstream direct;
 * - peak RSS (VmHWM) of a fresh pullgate for one stream of the largest blob and for the 8 streams.
 */
export interface ColdSizeCell {
  runningPullgate: number[];
  runningProxy: number[];
  freshPullgate: number[];
  freshProxy: number[];
  warmPullgate: number[];
  direct: number[];
  /** VmHWM of the fresh pullgate for its one cold stream. */
  freshRss: number[];
}

export interface ColdResults {
  sizes: number[];
  concurrentSize: number;
  cells: Record<string, ColdSizeCell>;
  concurrent: { pullgate: number[]; proxy: number[]; rss: number[] };
  /** Top frames of a profiled cold stream through this build (bench/results/profile-blob-cold.md). */
  profileAfter?: string;
  /** The same profile before issue 16's fill redesign (bench/results/profile-blob-cold-before.md, committed). */
  profileBefore?: string;
}

export function coldSettings(quick: boolean): { sizes: number[]; concurrentSize: number } {
  const MiB = 1024 * 1024;
  return quick
    ? { sizes: [16 * MiB, 64 * MiB], concurrentSize: 32 * MiB }
    : { sizes: [256 * MiB, 1024 * MiB], concurrentSize: 512 * MiB };
}

export async function coldPhase(ctx: Ctx): Promise<ColdResults> {
  const { sizes, concurrentSize } = coldSettings(ctx.s.quick);
  const repo = 'bench/cold';
  const out: ColdResults = {
    sizes,
    concurrentSize,
    cells: {},
    concurrent: { pullgate: [], proxy: [], rss: [] },
  };
  let n = 0;
  const fresh = async (size: number): Promise<BlobFile> => {
    // Never held in memory; the local copy is dropped once the upstream has it.
    const file = await makeRandomFile(join(ctx.tmp.path, `cold-${n++}`), size);
    await pushBlob(ctx.upstream, repo, file);
    await rm(file.path, { force: true });
    return file;
  };
  const job = (origin: string, blob: BlobFile, streams = 1) =>
    runLoad(
      ctx.root,
      {
        kind: 'blob',
        origin,
        path: `/v2/${repo}/blobs/${blob.digest}`,
        expectDigest: blob.digest,
        size: blob.size,
        streams,
        verify: 'one',
      },
      600_000,
    );
  // The running pair: each has served a blob before the first measured one.
  const running = await startPullgate(ctx);
  const runningProxy = await startProxy(ctx.upstream);
  try {
    const first = await fresh(8 * 1024 * 1024);
    await job(running.url, first);
    await job(runningProxy.url, first);
    for (let r = 0; r < ctx.s.rounds; r++) {
      // Alternate which of the pair goes first, so neither always meets a cold page cache upstream.
      const pgFirst = r % 2 === 0;
      for (const size of sizes) {
        const cell = out.cells[String(size)] ?? {
          runningPullgate: [],
          runningProxy: [],
          freshPullgate: [],
          freshProxy: [],
          warmPullgate: [],
          direct: [],
          freshRss: [],
        };
        out.cells[String(size)] = cell;
        const blob = await fresh(size);
        const pair = async (pg: () => Promise<void>, proxy: () => Promise<void>) => {
          if (pgFirst) {
            await pg();
            await proxy();
          } else {
            await proxy();
            await pg();
          }
        };
        await pair(
          async () => {
            cell.runningPullgate.push((await job(running.url, blob)).mbps);
          },
          async () => {
            cell.runningProxy.push((await job(runningProxy.url, blob)).mbps);
          },
        );
        cell.warmPullgate.push((await job(running.url, blob)).mbps);
        cell.direct.push((await job(ctx.upstream.url, blob)).mbps);
        await pair(
          async () => {
            const pg = await startPullgate(ctx);
            try {
              cell.freshPullgate.push((await job(pg.url, blob)).mbps);
              cell.freshRss.push(pg.peakRss());
            } finally {
              await pg.stop();
            }
          },
          async () => {
            const proxy = await startProxy(ctx.upstream);
            try {
              cell.freshProxy.push((await job(proxy.url, blob)).mbps);
            } finally {
              await proxy.stop();
            }
          },
        );
        const l = (xs: number[]) => Math.round(xs[xs.length - 1] ?? Number.NaN);
        ctx.log(
          `cold r${r + 1} ${size / 1048576} MiB: running pullgate ${l(cell.runningPullgate)} / proxy ${l(cell.runningProxy)} MB/s, fresh ${l(cell.freshPullgate)} / ${l(cell.freshProxy)}, warm ${l(cell.warmPullgate)}, direct ${l(cell.direct)}, fresh peak RSS ${Math.round(l(cell.freshRss) / 1048576)} MiB`,
        );
      }
      const shared = await fresh(concurrentSize);
      const c = out.concurrent;
      const pg = await startPullgate(ctx);
      try {
        c.pullgate.push((await job(pg.url, shared, 8)).mbps);
        c.rss.push(pg.peakRss());
      } finally {
        await pg.stop();
      }
      const proxy = await startProxy(ctx.upstream);
      try {
        c.proxy.push((await job(proxy.url, shared, 8)).mbps);
      } finally {
        await proxy.stop();
      }
      ctx.log(
        `cold r${r + 1} 8 x ${concurrentSize / 1048576} MiB: pullgate ${Math.round(c.pullgate[r] ?? Number.NaN)} / proxy ${Math.round(c.proxy[r] ?? Number.NaN)} MB/s, peak RSS ${Math.round((c.rss[r] ?? Number.NaN) / 1048576)} MiB`,
      );
    }
  } finally {
    await running.stop();
    await runningProxy.stop();
  }
  const profile = (name: string) => {
    const path = join(ctx.root, 'bench', 'results', name);
    return existsSync(path) ? topFrames(readFileSync(path, 'utf8')) : undefined;
  };
  out.profileAfter = profile('profile-blob-cold.md');
  out.profileBefore = profile('profile-blob-cold-before.md');
  return out;
}

/** The headline and the "self time by function" table of a profile summary (profile.ts), first 12 rows. */
function topFrames(md: string): string {
  const lines = md.split('\n');
  const what = lines.find((l) => / MB\/s/.test(l)) ?? '';
  const busy = lines.find((l) => l.startsWith('Sampled')) ?? '';
  const at = lines.findIndex((l) => l.startsWith('### Top'));
  const rows = at < 0 ? [] : lines.slice(at + 2, at + 4 + 12).filter((l) => l.startsWith('|'));
  return [what, busy, '', ...rows].join('\n');
}

interface ColdTarget {
  section: string;
  measure: string;
  target: string;
  result: string;
  ok: boolean | undefined;
}

export function renderCold(c: ColdResults): { section: string; targets: ColdTarget[] } {
  const MiBs = (b: number) => `${b / 1048576} MiB`;
  const rows: string[][] = [];
  const targets: ColdTarget[] = [];
  let worstCold = Number.POSITIVE_INFINITY;
  let worstWarm = Number.POSITIVE_INFINITY;
  for (const size of c.sizes) {
    const x = c.cells[String(size)];
    if (x === undefined) continue;
    const running = medianRatio(x.runningPullgate, x.runningProxy);
    const fresh = medianRatio(x.freshPullgate, x.freshProxy);
    const warm = medianRatio(x.warmPullgate, x.direct);
    worstCold = Math.min(worstCold, running, fresh);
    worstWarm = Math.min(worstWarm, warm);
    rows.push([
      MiBs(size),
      fmt(median(x.runningPullgate), 0),
      fmt(median(x.runningProxy), 0),
      ratio(running),
      fmt(median(x.freshPullgate), 0),
      fmt(median(x.freshProxy), 0),
      ratio(fresh),
      fmt(median(x.warmPullgate), 0),
      fmt(median(x.direct), 0),
      ratio(warm),
      mib(max(x.freshRss)),
    ]);
  }
  const k = c.concurrent;
  const concurrent = medianRatio(k.pullgate, k.proxy);
  const biggest = Math.max(...c.sizes);
  const rssOne = max(c.cells[String(biggest)]?.freshRss ?? []);
  const rssEight = max(k.rss);
  targets.push(
    {
      section: '3b',
      measure: 'cold single stream ÷ distribution proxy cold (worst of sizes, running and fresh)',
      target: '≥ 1.0×',
      result: ratio(worstCold),
      ok: worstCold >= 1.0,
    },
    {
      section: '3b',
      measure: `8 concurrent cold streams of one ${MiBs(c.concurrentSize)} blob ÷ proxy`,
      target: '≥ 1.0×',
      result: ratio(concurrent),
      ok: concurrent >= 1.0,
    },
    {
      section: '3b',
      measure: 'warm ÷ direct (worst size)',
      target: '≥ 0.8×',
      result: ratio(worstWarm),
      ok: worstWarm >= 0.8,
    },
    {
      section: '3b',
      measure: `peak RSS, one cold ${MiBs(biggest)} stream (fresh process)`,
      target: '< 150 MiB',
      result: mib(rssOne),
      ok: rssOne < 150 * 1048576,
    },
    {
      section: '3b',
      measure: `peak RSS, 8 concurrent cold ${MiBs(c.concurrentSize)} streams (fresh process)`,
      target: '< 150 MiB',
      result: mib(rssEight),
      ok: rssEight < 150 * 1048576,
    },
  );
  const table = (head: string[], body: string[][]) =>
    [head, head.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
  const section = [
    '## 3b. Cold pulls (issue 16): MB/s, one stream, blobs the target has not seen',
    '',
    'Running: a pullgate and a proxy that have served other blobs, each round a newly pushed blob. Fresh: both started on empty storage for the pull. Warm: the running pullgate’s second fetch. Peak RSS: VmHWM of the fresh pullgate. Ratios are medians of per-round ratios; which of the pair goes first alternates by round.',
    '',
    table(
      [
        'blob',
        'running pullgate',
        'running proxy',
        'ratio',
        'fresh pullgate',
        'fresh proxy',
        'ratio',
        'pullgate warm',
        'direct',
        'warm ÷ direct',
        'peak RSS (fresh)',
      ],
      rows,
    ),
    '',
    `8 concurrent streams of one cold ${MiBs(c.concurrentSize)} blob (fresh processes): pullgate ${fmt(median(k.pullgate), 0)} MB/s, proxy ${fmt(median(k.proxy), 0)} MB/s, ratio ${ratio(concurrent)}, pullgate peak RSS ${mib(rssEight)} (worst round).`,
    '',
    '### CPU profile of one cold stream through a running pullgate: top frames by self time',
    '',
    '**Before** (the fill before issue 16: each chunk written, then read back from the temp file for the client):',
    '',
    c.profileBefore ?? '(bench/results/profile-blob-cold-before.md not found)',
    '',
    '**After** (this build; `npm run bench -- --profile blob-cold` writes it):',
    '',
    c.profileAfter ??
      '(bench/results/profile-blob-cold.md not found: run `npm run bench -- --profile blob-cold`)',
  ].join('\n');
  return { section, targets };
}
