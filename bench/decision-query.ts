/**
 * `node --import tsx bench/decision-query.ts [--quick] [--sizes 10000,100000,1000000] [--stores sqlite,postgres]`
 *
 * The decision query growth phase of `npm run bench` (bench/lib/decision-query.ts) on its own, without the upstream
 * registry and the other phases: prints its section of the report. PostgreSQL is started in a temp dir
 * (test/helpers/postgres.ts).
 */
import {
  decisionQueryPhase,
  decisionQuerySettings,
  STORE_KINDS,
  type StoreKind,
} from './lib/decision-query.js';
import { renderDecisionQuery } from './lib/decision-report.js';

function parseArgs(argv: string[]) {
  let quick = false;
  let sizes: number[] | undefined;
  let stores: StoreKind[] = [...STORE_KINDS];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') {
      quick = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--sizes') sizes = v.split(',').map(Number);
    else if (a === '--stores') {
      stores = v.split(',') as StoreKind[];
      for (const s of stores) if (!STORE_KINDS.includes(s)) throw new Error(`unknown store ${s}`);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (sizes?.some((n) => !Number.isSafeInteger(n) || n < 5000))
    throw new Error('--sizes: integers >= 5000 (the page needs 50 matches at 1%)');
  return { ...decisionQuerySettings(quick, sizes), stores };
}

const t0 = Date.now();
const results = await decisionQueryPhase({
  ...parseArgs(process.argv.slice(2)),
  log: (msg) =>
    process.stderr.write(`[decisions ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`),
});
const { section, targets } = renderDecisionQuery(results);
process.stdout.write(
  `${section}\n\n${targets.map((t) => `- ${t.measure}: ${t.result} (target ${t.target})`).join('\n')}\n`,
);
