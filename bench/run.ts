/**
 * `npm run bench [-- --quick] [--rounds N]
 *  [--only manifest,head,blobs,cold,identical,skopeo,coalesce,decisions,head-index,manifest-on] [--decision-sizes N,N,N]
 *  [--profile manifest,head,head-policy,head-audit,blob-cold,blob-warm]`
 * `npm run bench -- --render [bench/results/latest.json]` re-renders a saved run's markdown.
 *
 * pullgate against the same upstream pulled directly and against the CNCF distribution registry in proxy
 * mode, one run on this machine, interleaved rounds, medians and ratios. See bench/README.md.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../test/helpers/proc.js';
import { startRegistry } from '../test/helpers/registry.js';
import { makeTempDir } from '../test/helpers/tmp.js';
import { coldPhase } from './lib/cold-phase.js';
import { headIndexPhase, manifestOnPhase } from './lib/decision-phases.js';
import { decisionQueryPhase, decisionQuerySettings } from './lib/decision-query.js';
import {
  blobPhase,
  type Ctx,
  coalescePhase,
  headPhase,
  identicalPullsPhase,
  makeContent,
  manifestPhase,
  settings,
  skopeoPhase,
} from './lib/phases.js';
import { type ProfileScenario, profileScenario } from './lib/profile.js';
import { type BenchResults, renderMarkdown } from './lib/report.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PHASES = [
  'manifest',
  'head',
  'blobs',
  'cold',
  'identical',
  'skopeo',
  'coalesce',
  'decisions',
  'head-index',
  'manifest-on',
] as const;
type Phase = (typeof PHASES)[number];

interface Args {
  quick: boolean;
  rounds: number | undefined;
  only: Set<Phase>;
  profile: ProfileScenario[];
  decisionSizes: number[] | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    quick: false,
    rounds: undefined,
    only: new Set(PHASES),
    profile: [],
    decisionSizes: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') args.quick = true;
    else if (a === '--rounds') args.rounds = Number(value());
    else if (a === '--only') {
      const names = value().split(',');
      for (const n of names)
        if (!(PHASES as readonly string[]).includes(n)) throw new Error(`unknown phase ${n}`);
      args.only = new Set(names as Phase[]);
    } else if (a === '--profile') args.profile = value().split(',') as ProfileScenario[];
    else if (a === '--decision-sizes') {
      args.decisionSizes = value().split(',').map(Number);
      if (args.decisionSizes.some((n) => !Number.isSafeInteger(n) || n < 5000))
        throw new Error('--decision-sizes: integers >= 5000 (the page needs 50 matches at 1%)');
    } else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

const t0 = Date.now();
function log(msg: string): void {
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
}

async function build(): Promise<string> {
  log('building dist/ (tsc -p tsconfig.build.json)');
  const r = await run('npx', ['tsc', '-p', 'tsconfig.build.json'], {
    cwd: root,
    allowFailure: true,
    timeoutMs: 300_000,
  });
  if (!existsSync(join(root, 'dist', 'cli.js')))
    throw new Error(`build produced no dist/cli.js:\n${r.stdout}`);
  if (r.code === 0) return 'tsc clean';
  const errors = r.stdout.split('\n').filter((l) => l.includes('error TS'));
  log(`tsc reported ${errors.length} errors (dist/ emitted anyway):\n${errors.slice(0, 10).join('\n')}`);
  return `tsc reported ${errors.length} type errors, dist/ emitted anyway`;
}

/** Whether the source reads an environment variable at all (the toggles of section 2 may not exist yet). */
async function distMentions(names: string[]): Promise<Record<string, boolean>> {
  const found: Record<string, boolean> = Object.fromEntries(names.map((n) => [n, false]));
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.ts')) {
        const text = await readFile(p, 'utf8');
        for (const n of names) if (text.includes(n)) found[n] = true;
      }
    }
  };
  await walk(join(root, 'src')).catch(() => undefined);
  return found;
}

async function commit(): Promise<string> {
  const r = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, allowFailure: true });
  const dirty = await run('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd: root,
    allowFailure: true,
  });
  return `${r.stdout.trim() || 'unknown'}${dirty.stdout.trim() === '' ? '' : ' + uncommitted changes'}`;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--render') {
    // Re-render a saved run's markdown (after a change to the report) without measuring again.
    const file = process.argv[3] ?? join(root, 'bench', 'results', 'latest.json');
    const saved = JSON.parse(await readFile(file, 'utf8')) as BenchResults;
    const md = renderMarkdown(saved);
    await writeFile(file.replace(/\.json$/, '.md'), md);
    process.stdout.write(md);
    return;
  }
  const args = parseArgs(process.argv.slice(2));
  const s = settings(args.quick, args.rounds);
  const startedAt = new Date().toISOString();
  const loadAvgStart = loadavg();
  const buildNote = await build();
  const upstream = await startRegistry();
  const tmp = await makeTempDir('bench');
  const results: BenchResults = {
    meta: {
      startedAt,
      finishedAt: '',
      durationS: 0,
      node: process.version,
      cpus: cpus().length,
      loadAvgStart,
      loadAvgEnd: [],
      settings: s,
      build: buildNote,
      commit: await commit(),
    },
    errors: [],
  };
  try {
    log(`upstream ${upstream.url}; making content`);
    const content = await makeContent(upstream, tmp, s, log);
    results.content = {
      blobRepo: content.blobRepo,
      blobSizes: content.blobs.map((b) => b.size),
      skopeoBytes: s.skopeoLayerBytes,
      coalesceBytes: s.coalesceLayerBytes,
    };
    const ctx: Ctx = { root, s, upstream, tmp, content, log };
    if (args.profile.length > 0) {
      for (const scenario of args.profile) await profileScenario(ctx, scenario);
      return;
    }
    const phase = async <T>(name: Phase, fn: () => Promise<T>): Promise<T | undefined> => {
      if (!args.only.has(name)) return undefined;
      log(`phase ${name}`);
      const phaseStart = Date.now();
      try {
        return await fn();
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        log(`phase ${name} failed: ${message}`);
        results.errors.push({ phase: name, message });
        return undefined;
      } finally {
        results.phaseS = { ...results.phaseS, [name]: (Date.now() - phaseStart) / 1000 };
      }
    };
    results.manifest = await phase('manifest', () => manifestPhase(ctx));
    const toggles = await distMentions(['PULLGATE_POLICY_ENABLED', 'PULLGATE_AUDIT_ENABLED']);
    results.head = await phase('head', () =>
      headPhase(ctx, {
        policy: toggles.PULLGATE_POLICY_ENABLED ?? false,
        audit: toggles.PULLGATE_AUDIT_ENABLED ?? false,
      }),
    );
    results.blobs = await phase('blobs', () => blobPhase(ctx));
    results.cold = await phase('cold', () => coldPhase(ctx));
    results.identical = await phase('identical', () => identicalPullsPhase(ctx));
    results.skopeo = await phase('skopeo', () => skopeoPhase(ctx));
    results.coalesce = await phase('coalesce', () => coalescePhase(ctx));
    results.headIndex = await phase('head-index', () => headIndexPhase(ctx));
    results.manifestOn = await phase('manifest-on', () => manifestOnPhase(ctx));
    results.decisions = await phase('decisions', () =>
      decisionQueryPhase({ ...decisionQuerySettings(s.quick, args.decisionSizes), log }),
    );

    results.meta.finishedAt = new Date().toISOString();
    results.meta.durationS = (Date.now() - t0) / 1000;
    results.meta.loadAvgEnd = loadavg();
    const md = renderMarkdown(results);
    const dir = join(root, 'bench', 'results');
    await mkdir(dir, { recursive: true });
    const name = s.quick ? 'latest-quick' : 'latest';
    await writeFile(join(dir, `${name}.md`), md);
    await writeFile(join(dir, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(md);
    log(`wrote bench/results/${name}.md and .json`);
  } finally {
    await upstream.stop();
    await tmp.cleanup();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
