import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../test/helpers/proc.js';
import { type Registry, startRegistry } from '../../test/helpers/registry.js';
import type { TempDir } from '../../test/helpers/tmp.js';
import {
  type BlobFile,
  MANIFEST_ACCEPT,
  makeRandomFile,
  makeTarLayer,
  type PushedImage,
  pushBlob,
  pushImage,
} from './content.js';
import { runLoad } from './jobs.js';
import { startPullgateProcess } from './pullgate-process.js';
import { markAccessLog, type UpstreamCounts } from './upstream-count.js';

export type TargetName = 'direct' | 'proxy' | 'pullgate';
export const TARGETS: readonly TargetName[] = ['direct', 'proxy', 'pullgate'];

export interface Settings {
  quick: boolean;
  rounds: number;
  blobSizes: number[];
  streams: number[];
  seqCount: number;
  throughputMs: number;
  skopeoLayerBytes: number;
  coalesceLayerBytes: number;
  coalescePulls: number;
  identicalPulls: number;
}

export function settings(quick: boolean, rounds?: number): Settings {
  const MiB = 1024 * 1024;
  return {
    quick,
    rounds: rounds ?? 3,
    blobSizes: quick ? [8 * MiB, 64 * MiB] : [64 * MiB, 512 * MiB],
    streams: [1, 8],
    seqCount: quick ? 100 : 300,
    throughputMs: quick ? 1000 : 3000,
    skopeoLayerBytes: quick ? 8 * MiB : 64 * MiB,
    coalesceLayerBytes: quick ? 1 * MiB : 8 * MiB,
    coalescePulls: 50,
    identicalPulls: 100,
  };
}

export interface Ctx {
  root: string;
  s: Settings;
  upstream: Registry;
  tmp: TempDir;
  content: Content;
  log(msg: string): void;
}

export interface Content {
  blobRepo: string;
  blobs: BlobFile[];
  /** Manifest phases and the 100 identical pulls: config + two small layers. */
  small: PushedImage;
  skopeo: PushedImage;
  coalesce: PushedImage;
}

export async function makeContent(
  upstream: Registry,
  tmp: TempDir,
  s: Settings,
  log: (m: string) => void,
): Promise<Content> {
  const blobRepo = 'bench/blobs';
  const blobs: BlobFile[] = [];
  for (const size of s.blobSizes) {
    const file = await makeRandomFile(join(tmp.path, `blob-${size}`), size);
    await pushBlob(upstream, blobRepo, file);
    blobs.push(file);
    log(`pushed ${size / 1048576} MiB blob`);
  }
  const layers = async (label: string, n: number, bytes: number) => {
    const out: BlobFile[] = [];
    for (let i = 0; i < n; i++) out.push(await makeTarLayer(join(tmp.path, `${label}-${i}.tar`), bytes));
    return out;
  };
  const small = await pushImage(upstream, 'bench/small', 'v1', await layers('small', 2, 256 * 1024));
  const skopeo = await pushImage(
    upstream,
    'bench/skopeo',
    'v1',
    await layers('skopeo', 3, s.skopeoLayerBytes),
  );
  const coalesce = await pushImage(
    upstream,
    'bench/coalesce',
    'v1',
    await layers('coalesce', 3, s.coalesceLayerBytes),
  );
  log('pushed images');
  return { blobRepo, blobs, small, skopeo, coalesce };
}

const MAX_REQUESTS = 500_000;

export function startProxy(upstream: Registry): Promise<Registry> {
  return startRegistry({ proxyRemoteUrl: upstream.url });
}

export function startPullgate(ctx: Ctx, env: Record<string, string> = {}) {
  return startPullgateProcess({ repoRoot: ctx.root, upstreamUrl: ctx.upstream.url, env });
}

// ---- 1. manifest GET by tag ------------------------------------------------------------------------------

export interface ManifestSample {
  p50Ms: number;
  p99Ms: number;
  rps: number;
}
export type ManifestResults = Record<TargetName, ManifestSample[]>;

export async function manifestPhase(ctx: Ctx): Promise<ManifestResults> {
  const { small } = ctx.content;
  const proxy = await startProxy(ctx.upstream);
  const pg = await startPullgate(ctx);
  const origins: Record<TargetName, string> = {
    direct: ctx.upstream.url,
    proxy: proxy.url,
    pullgate: pg.url,
  };
  const out: ManifestResults = { direct: [], proxy: [], pullgate: [] };
  const path = `/v2/${small.repo}/manifests/${small.tag}`;
  const headers = { accept: MANIFEST_ACCEPT };
  try {
    for (let r = 0; r < ctx.s.rounds; r++) {
      for (const t of TARGETS) {
        const origin = origins[t];
        const lat = await runLoad(ctx.root, {
          kind: 'latency',
          origin,
          path,
          method: 'GET',
          headers,
          expectDigest: small.manifestDigest,
          warmup: 20,
          count: ctx.s.seqCount,
          maxMs: 30_000,
        });
        const thr = await runLoad(ctx.root, {
          kind: 'throughput',
          origin,
          path,
          method: 'GET',
          headers,
          expectDigest: small.manifestDigest,
          connections: 50,
          durationMs: ctx.s.throughputMs,
          maxRequests: MAX_REQUESTS,
          verifyEvery: 50,
        });
        out[t].push({ p50Ms: lat.p50Ms, p99Ms: lat.p99Ms, rps: thr.rps });
        ctx.log(
          `manifest r${r + 1} ${t}: p50 ${lat.p50Ms.toFixed(2)} ms p99 ${lat.p99Ms.toFixed(2)} ms, ${Math.round(thr.rps)} req/s${thr.errors > 0 ? ` (${thr.errors} errors: ${thr.firstError})` : ''}`,
        );
      }
    }
  } finally {
    await pg.stop();
    await proxy.stop();
  }
  return out;
}

// ---- 2. HEAD by tag with pullgate's own toggles ---------------------------------------------------------

export type HeadVariant = 'off' | 'policy' | 'audit';
export interface HeadResults {
  rps: Record<HeadVariant, number[]>;
  /** Whether the built pullgate mentions each toggle at all. */
  toggleKnown: { policy: boolean; audit: boolean };
  startErrors: Partial<Record<HeadVariant, string>>;
}

const VARIANT_ENV: Record<HeadVariant, Record<string, string>> = {
  off: { PULLGATE_POLICY_ENABLED: 'false', PULLGATE_AUDIT_ENABLED: 'false' },
  policy: { PULLGATE_POLICY_ENABLED: 'true', PULLGATE_AUDIT_ENABLED: 'false' },
  audit: { PULLGATE_POLICY_ENABLED: 'false', PULLGATE_AUDIT_ENABLED: 'true' },
};

export async function headPhase(ctx: Ctx, toggleKnown: HeadResults['toggleKnown']): Promise<HeadResults> {
  const { small } = ctx.content;
  const out: HeadResults = { rps: { off: [], policy: [], audit: [] }, toggleKnown, startErrors: {} };
  const running = new Map<HeadVariant, Awaited<ReturnType<typeof startPullgate>>>();
  try {
    for (const v of ['off', 'policy', 'audit'] as const) {
      try {
        running.set(v, await startPullgate(ctx, VARIANT_ENV[v]));
      } catch (e) {
        out.startErrors[v] = e instanceof Error ? e.message.split('\n').slice(0, 6).join(' | ') : String(e);
        ctx.log(`head: pullgate with ${v} on did not start: ${out.startErrors[v]}`);
      }
    }
    for (let r = 0; r < ctx.s.rounds; r++) {
      for (const [v, pg] of running) {
        const thr = await runLoad(ctx.root, {
          kind: 'throughput',
          origin: pg.url,
          path: `/v2/${small.repo}/manifests/${small.tag}`,
          method: 'HEAD',
          headers: { accept: MANIFEST_ACCEPT },
          expectDigest: small.manifestDigest,
          connections: 50,
          durationMs: ctx.s.throughputMs,
          maxRequests: MAX_REQUESTS,
          verifyEvery: 1,
        });
        out.rps[v].push(thr.rps);
        ctx.log(`head r${r + 1} ${v}: ${Math.round(thr.rps)} req/s`);
      }
    }
  } finally {
    for (const pg of running.values()) await pg.stop();
  }
  return out;
}

// ---- 3 + 4. blobs: throughput, cold and warm, and pullgate's peak RSS -----------------------------------

export interface BlobCell {
  direct: number[];
  proxyCold: number[];
  proxyWarm: number[];
  pullgateCold: number[];
  pullgateWarm: number[];
  /** pullgate VmHWM (bytes): a fresh process for cold; reset with clear_refs before warm. */
  rssCold: number[];
  rssWarm: number[];
  /** pullgate VmHWM once started and answering /v2/, before any pull: the floor under the figures above. */
  rssIdle: number[];
}
/** key: `${size}/${streams}` */
export type BlobResults = Record<string, BlobCell>;

export function blobKey(size: number, streams: number): string {
  return `${size}/${streams}`;
}

export async function blobPhase(ctx: Ctx): Promise<BlobResults> {
  const out: BlobResults = {};
  const { blobRepo } = ctx.content;
  for (let r = 0; r < ctx.s.rounds; r++) {
    for (const blob of ctx.content.blobs) {
      for (const streams of ctx.s.streams) {
        const key = blobKey(blob.size, streams);
        const cell = out[key] ?? {
          direct: [],
          proxyCold: [],
          proxyWarm: [],
          pullgateCold: [],
          pullgateWarm: [],
          rssCold: [],
          rssWarm: [],
          rssIdle: [],
        };
        out[key] = cell;
        const job = (origin: string) =>
          runLoad(ctx.root, {
            kind: 'blob',
            origin,
            path: `/v2/${blobRepo}/blobs/${blob.digest}`,
            expectDigest: blob.digest,
            size: blob.size,
            streams,
            // One stream in N hashed, the rest counted: hashing 4 GiB would make the client the bottleneck.
            verify: 'one',
          });
        const direct = await job(ctx.upstream.url);
        cell.direct.push(direct.mbps);

        const proxy = await startProxy(ctx.upstream);
        try {
          cell.proxyCold.push((await job(proxy.url)).mbps);
          cell.proxyWarm.push((await job(proxy.url)).mbps);
        } finally {
          await proxy.stop();
        }

        const pg = await startPullgate(ctx);
        try {
          cell.rssIdle.push(pg.peakRss());
          cell.pullgateCold.push((await job(pg.url)).mbps);
          cell.rssCold.push(pg.peakRss());
          pg.resetPeak();
          cell.pullgateWarm.push((await job(pg.url)).mbps);
          cell.rssWarm.push(pg.peakRss());
        } finally {
          await pg.stop();
        }
        const last = (xs: number[]) => Math.round(xs[xs.length - 1] ?? Number.NaN);
        ctx.log(
          `blob r${r + 1} ${blob.size / 1048576} MiB x${streams}: direct ${last(cell.direct)} MB/s, proxy ${last(cell.proxyCold)}/${last(cell.proxyWarm)}, pullgate ${last(cell.pullgateCold)}/${last(cell.pullgateWarm)} (cold/warm), pullgate peak RSS ${Math.round(last(cell.rssCold) / 1048576)}/${Math.round(last(cell.rssWarm) / 1048576)} MiB`,
        );
      }
    }
  }
  return out;
}

// ---- 5. upstream requests per 100 identical pulls -------------------------------------------------------

/** Upstream requests seen during a batch of pulls, and how many of the pulls failed (never a digest mismatch). */
export interface PullCounts extends UpstreamCounts {
  failedPulls: number;
  firstError?: string;
}

export type IdenticalPullResults = Record<TargetName, PullCounts>;

async function countPulls(
  ctx: Ctx,
  origin: string,
  image: PushedImage,
  count: number,
  concurrency: number,
): Promise<PullCounts> {
  const mark = await markAccessLog(ctx.upstream);
  const r = await runLoad(ctx.root, {
    kind: 'pulls',
    origin,
    repo: image.repo,
    tag: image.tag,
    accept: MANIFEST_ACCEPT,
    expectManifestDigest: image.manifestDigest,
    count,
    concurrency,
    connections: Math.min(50, concurrency * (image.blobs.length + 1)),
    tolerateErrors: true,
  });
  const counts = await mark.since();
  return {
    ...counts,
    failedPulls: r.failed,
    ...(r.firstError === undefined ? {} : { firstError: r.firstError }),
  };
}

export async function identicalPullsPhase(ctx: Ctx): Promise<IdenticalPullResults> {
  const img = ctx.content.small;
  const n = ctx.s.identicalPulls;
  const direct = await countPulls(ctx, ctx.upstream.url, img, n, 1);
  const proxy = await startProxy(ctx.upstream);
  let proxyCounts: PullCounts;
  try {
    proxyCounts = await countPulls(ctx, proxy.url, img, n, 1);
  } finally {
    await proxy.stop();
  }
  const pg = await startPullgate(ctx);
  let pgCounts: PullCounts;
  try {
    pgCounts = await countPulls(ctx, pg.url, img, n, 1);
  } finally {
    await pg.stop();
  }
  ctx.log(
    `identical pulls: upstream requests direct ${direct.total}, proxy ${proxyCounts.total}, pullgate ${pgCounts.total}`,
  );
  return { direct, proxy: proxyCounts, pullgate: pgCounts };
}

// ---- 6. skopeo copy of a 3-layer image ------------------------------------------------------------------

export type SkopeoResults = Record<TargetName, { cold: number[]; warm: number[] }>;

async function skopeoCopy(ctx: Ctx, host: string, image: PushedImage, n: number): Promise<number> {
  const dest = join(ctx.tmp.path, `skopeo-out-${n}`);
  const t0 = performance.now();
  await run(
    'skopeo',
    [
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      `docker://${host}/${image.repo}:${image.tag}`,
      `oci:${dest}:pulled`,
    ],
    { timeoutMs: 300_000 },
  );
  const ms = performance.now() - t0;
  await rm(dest, { recursive: true, force: true });
  return ms;
}

export async function skopeoPhase(ctx: Ctx): Promise<SkopeoResults> {
  const img = ctx.content.skopeo;
  const out: SkopeoResults = {
    direct: { cold: [], warm: [] },
    proxy: { cold: [], warm: [] },
    pullgate: { cold: [], warm: [] },
  };
  let n = 0;
  for (let r = 0; r < ctx.s.rounds; r++) {
    // The upstream has no cache of its own to warm: both runs measure the same path.
    out.direct.cold.push(await skopeoCopy(ctx, ctx.upstream.host, img, n++));
    out.direct.warm.push(await skopeoCopy(ctx, ctx.upstream.host, img, n++));
    const proxy = await startProxy(ctx.upstream);
    try {
      out.proxy.cold.push(await skopeoCopy(ctx, proxy.host, img, n++));
      out.proxy.warm.push(await skopeoCopy(ctx, proxy.host, img, n++));
    } finally {
      await proxy.stop();
    }
    const pg = await startPullgate(ctx);
    try {
      const host = new URL(pg.url).host;
      out.pullgate.cold.push(await skopeoCopy(ctx, host, img, n++));
      out.pullgate.warm.push(await skopeoCopy(ctx, host, img, n++));
    } finally {
      await pg.stop();
    }
    const l = (xs: number[]) => Math.round(xs[xs.length - 1] ?? Number.NaN);
    ctx.log(
      `skopeo r${r + 1}: direct ${l(out.direct.cold)}/${l(out.direct.warm)} ms, proxy ${l(out.proxy.cold)}/${l(out.proxy.warm)}, pullgate ${l(out.pullgate.cold)}/${l(out.pullgate.warm)} (cold/warm)`,
    );
  }
  return out;
}

// ---- 7. 50 concurrent cold pulls of one image -----------------------------------------------------------

export interface CoalesceRound {
  proxy: PullCounts;
  pullgate: PullCounts;
}

export async function coalescePhase(ctx: Ctx): Promise<CoalesceRound[]> {
  const img = ctx.content.coalesce;
  const out: CoalesceRound[] = [];
  for (let r = 0; r < ctx.s.rounds; r++) {
    const proxy = await startProxy(ctx.upstream);
    let proxyCounts: PullCounts;
    try {
      proxyCounts = await countPulls(ctx, proxy.url, img, ctx.s.coalescePulls, ctx.s.coalescePulls);
    } finally {
      await proxy.stop();
    }
    const pg = await startPullgate(ctx);
    let pgCounts: PullCounts;
    try {
      pgCounts = await countPulls(ctx, pg.url, img, ctx.s.coalescePulls, ctx.s.coalescePulls);
    } finally {
      await pg.stop();
    }
    out.push({ proxy: proxyCounts, pullgate: pgCounts });
    ctx.log(
      `coalesce r${r + 1}: pullgate manifest GETs ${pgCounts.manifestGet}, blob GETs ${pgCounts.blobGet}, failed pulls ${pgCounts.failedPulls}; proxy ${proxyCounts.manifestGet}/${proxyCounts.blobGet}, failed ${proxyCounts.failedPulls}${proxyCounts.firstError === undefined ? '' : ` (${proxyCounts.firstError})`}`,
    );
  }
  return out;
}
