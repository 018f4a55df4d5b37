import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { makeTempDir } from '../../test/helpers/tmp.js';
import { MANIFEST_ACCEPT } from './content.js';
import { runLoad } from './jobs.js';
import type { Ctx } from './phases.js';
import { startPullgateProcess } from './pullgate-process.js';

export type ProfileScenario = 'manifest' | 'head' | 'head-policy' | 'head-audit' | 'blob-cold' | 'blob-warm';

const SCENARIO_ENV: Partial<Record<ProfileScenario, Record<string, string>>> = {
  'head-policy': { PULLGATE_POLICY_ENABLED: 'true' },
  'head-audit': { PULLGATE_AUDIT_ENABLED: 'true' },
};

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  startTime: number;
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame lives: pullgate's own code, a dependency, Node internals, or V8 pseudo-frames. */
function area(url: string, root: string): string {
  if (url === '') return 'v8';
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0] ?? url;
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = path.slice(nm + '/node_modules/'.length).split('/');
    return (parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]) ?? path;
  }
  return relative(root, path);
}

function frameKey(n: CpuProfileNode, root: string): string {
  const f = n.callFrame;
  const name = f.functionName === '' ? '(anonymous)' : f.functionName;
  return f.url === '' ? name : `${name} ${area(f.url, root)}:${f.lineNumber + 1}`;
}

/**
 * `window`: only samples taken between these CLOCK_MONOTONIC microseconds (V8 profile timestamps and
 * process.hrtime share that clock), so the process's start-up does not drown the scenario.
 */
export function summarize(
  profile: CpuProfile,
  root: string,
  window?: { startUs: number; endUs: number },
  top = 25,
): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (window !== undefined && (at < window.startUs || at > window.endUs)) return;
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const leaf = byId.get(id);
    if (leaf === undefined) return;
    total += dt;
    if (leaf.callFrame.functionName === '(idle)') {
      idle += dt;
      return;
    }
    const k = frameKey(leaf, root);
    self.set(k, (self.get(k) ?? 0) + dt);
    const a = area(leaf.callFrame.url, root) || leaf.callFrame.functionName;
    const areaKey = a === 'v8' ? leaf.callFrame.functionName : a;
    areas.set(areaKey, (areas.get(areaKey) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const node = byId.get(cur);
      if (node === undefined) break;
      const key = frameKey(node, root);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  });
  const busy = total - idle;
  const pct = (ms: number) => `${((100 * ms) / Math.max(busy, 1)).toFixed(1)}%`;
  const rows = (m: Map<string, number>, n: number, filter: (k: string) => boolean = () => true) =>
    [...m.entries()]
      .filter(([k]) => filter(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, ms]) => `| ${pct(ms)} | ${ms.toFixed(0)} | \`${k.replace(/\|/g, '\\|')}\` |`);
  return [
    `Sampled ${total.toFixed(0)} ms, of which ${busy.toFixed(0)} ms busy (${((100 * busy) / Math.max(total, 1)).toFixed(0)}%). Percentages are of busy time.`,
    '',
    '### Self time by area',
    '',
    '| share | ms | area |',
    '| --- | --- | --- |',
    ...rows(areas, 15),
    '',
    `### Top ${top} functions by self time`,
    '',
    '| share | ms | function |',
    '| --- | --- | --- |',
    ...rows(self, top),
    '',
    "### pullgate's own functions by inclusive time",
    '',
    '| share | ms | function |',
    '| --- | --- | --- |',
    ...rows(inclusive, top, (k) => k.includes(' dist/')),
  ].join('\n');
}

/**
 * Runs one scenario against pullgate started with `node --cpu-prof` and writes the summary to
 * bench/results/profile-<scenario>.md. The profile is written when pullgate exits on SIGTERM.
 */
export async function profileScenario(ctx: Ctx, scenario: ProfileScenario): Promise<void> {
  const profDir = await makeTempDir('bench-cpuprof');
  try {
    const pg = await startPullgateProcess({
      repoRoot: ctx.root,
      upstreamUrl: ctx.upstream.url,
      nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir.path],
      env: SCENARIO_ENV[scenario] ?? {},
    });
    const { small } = ctx.content;
    const blob = ctx.content.blobs[ctx.content.blobs.length - 1];
    if (blob === undefined) throw new Error('no blob to profile');
    const blobJob = {
      kind: 'blob' as const,
      origin: pg.url,
      path: `/v2/${ctx.content.blobRepo}/blobs/${blob.digest}`,
      expectDigest: blob.digest,
      size: blob.size,
      streams: 1,
      verify: 'one' as const,
    };
    let what = '';
    const usNow = () => Number(process.hrtime.bigint() / 1000n);
    let startUs = 0;
    let endUs = 0;
    try {
      if (scenario === 'blob-warm') await runLoad(ctx.root, blobJob);
      // The load generator's own start-up (~0.5 s) falls inside the window; pullgate is idle then.
      startUs = usNow();
      if (scenario === 'manifest' || scenario.startsWith('head')) {
        const method = scenario === 'manifest' ? 'GET' : 'HEAD';
        const r = await runLoad(ctx.root, {
          kind: 'throughput',
          origin: pg.url,
          path: `/v2/${small.repo}/manifests/${small.tag}`,
          method,
          headers: { accept: MANIFEST_ACCEPT },
          expectDigest: small.manifestDigest,
          connections: 50,
          durationMs: 10_000,
          maxRequests: 1_000_000,
          verifyEvery: 50,
        });
        what = `${method} manifest by tag at 50 connections for 10 s: ${Math.round(r.rps)} req/s`;
      } else if (scenario === 'blob-cold') {
        // Issue 16: a running pullgate (it has served another blob) and a blob it has not seen.
        const first = ctx.content.blobs[0];
        if (first !== undefined && first !== blob)
          await runLoad(ctx.root, {
            ...blobJob,
            path: `/v2/${ctx.content.blobRepo}/blobs/${first.digest}`,
            expectDigest: first.digest,
            size: first.size,
          });
        startUs = usNow();
        const r = await runLoad(ctx.root, blobJob);
        what = `one cold ${blob.size / 1048576} MiB blob stream through a running pullgate: ${Math.round(r.mbps)} MB/s`;
      } else {
        const speeds: number[] = [];
        for (let i = 0; i < 3; i++) speeds.push(Math.round((await runLoad(ctx.root, blobJob)).mbps));
        what = `three warm ${blob.size / 1048576} MiB blob streams in turn (after one cold fill, not profiled): ${speeds.join(', ')} MB/s`;
      }
      endUs = usNow();
    } finally {
      await pg.stop();
    }
    const files = (await readdir(profDir.path)).filter((f) => f.endsWith('.cpuprofile'));
    const file = files[0];
    if (file === undefined)
      throw new Error('pullgate wrote no .cpuprofile (did it exit cleanly on SIGTERM?)');
    const profile = JSON.parse(await readFile(join(profDir.path, file), 'utf8')) as CpuProfile;
    const md = [
      `## CPU profile of pullgate: ${scenario}`,
      '',
      what,
      '',
      summarize(profile, ctx.root, { startUs, endUs }),
      '',
    ].join('\n');
    const dir = join(ctx.root, 'bench', 'results');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `profile-${scenario}.md`), md);
    process.stdout.write(md);
  } finally {
    await profDir.cleanup();
  }
}
