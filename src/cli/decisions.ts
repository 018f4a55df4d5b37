import { parseArgs } from 'node:util';
import { type ApiResult, adminToken, apiMessage, callAdmin } from './admin-client.js';

export const decisionsUsage = `usage: pullgate decisions [--json] [filters] [--server URL]

Queries the decision log through the running server's admin API (token from PULLGATE_TOKEN, else PULLGATE_ADMIN_TOKEN).
filters: --repository NAME  --digest DIGEST  --decision allow|warn|deny  --rule RULE  --client ADDR|USER
         --since TIME  --until TIME  --limit N  --cursor C
Newest first. With --json, prints {"records":[...],"nextCursor":"..."}; otherwise one line per decision.
Exit 0 on success, 1 when the server refuses or fails, 2 on bad usage.
`;

const filterNames = [
  'repository',
  'digest',
  'decision',
  'rule',
  'client',
  'since',
  'until',
  'limit',
  'cursor',
] as const;

interface DecisionLine {
  seq: number;
  time: string;
  decision: string;
  method: string;
  repository: string;
  reference: string;
  digest?: string;
  client: { address: string; user?: string };
  findings: { rule: string; key?: string }[];
}

export async function runDecisions(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        json: { type: 'boolean' },
        server: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(filterNames.map((n) => [n, { type: 'string' as const }])),
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`pullgate decisions: ${(err as Error).message}\n${decisionsUsage}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(decisionsUsage);
    return 0;
  }
  const server = String(values.server ?? process.env.PULLGATE_SERVER ?? 'http://127.0.0.1:5000').replace(
    /\/+$/,
    '',
  );
  const token = adminToken(process.env);
  if (!token) {
    process.stderr.write('pullgate decisions: neither PULLGATE_TOKEN nor PULLGATE_ADMIN_TOKEN is set\n');
    return 2;
  }
  const query = new URLSearchParams();
  for (const name of filterNames) {
    const value = values[name];
    if (typeof value === 'string') query.set(name, value);
  }
  let result: ApiResult;
  try {
    result = await callAdmin(server, token, 'GET', `admin/decisions?${query.toString()}`);
  } catch (err) {
    process.stderr.write(`pullgate decisions: cannot reach ${server}: ${(err as Error).message}\n`);
    return 1;
  }
  if (result.status !== 200) {
    process.stderr.write(`pullgate decisions: server answered ${result.status}: ${apiMessage(result)}\n`);
    return 1;
  }
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify(result.body)}\n`);
    return 0;
  }
  const page = result.body as { records: DecisionLine[]; nextCursor?: string | null };
  for (const r of page.records) {
    const rules = r.findings.map((f) => (f.key ? `${f.rule}:${f.key}` : f.rule)).join(',') || '-';
    const who = r.client.user ?? r.client.address;
    process.stdout.write(
      `${r.time}  ${r.decision.padEnd(5)}  ${r.method.padEnd(4)}  ${r.repository}:${r.reference}  ${who}  ${rules}\n`,
    );
  }
  if (page.nextCursor) process.stdout.write(`(more: --cursor ${page.nextCursor})\n`);
  return 0;
}
