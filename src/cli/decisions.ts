import { parseArgs } from 'node:util';
import { type ApiResult, adminToken, apiMessage, callAdmin } from './admin-client.js';
import { type CliIo, processIo } from './io.js';
import { defaultServerUrl, serverHelp, tokenHint } from './server-url.js';

export const decisionsUsage = `usage: pullgate decisions [--json] [filters] [--server URL]

Queries the decision log through the running server's admin API (token from PULLGATE_TOKEN, else PULLGATE_ADMIN_TOKEN).
filters: --repository NAME  --digest DIGEST  --decision allow|warn|deny  --rule RULE  --client ADDR|USER
         --since TIME  --until TIME (ISO 8601, e.g. 2026-12-01T10:00:00Z)  --limit N (1-1000)  --cursor C
Newest first. With --json, prints {"records":[...],"nextCursor":"..."}; otherwise one line per decision:
time, decision, what the client got (a refused image's HEAD is answered with headers, 200, and the GET that
follows is refused, unless the server runs with PULLGATE_DENY_ON_HEAD=true), image, client, findings.

options:
${serverHelp}

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
  status?: number;
  repository: string;
  reference: string;
  digest?: string;
  client: { address: string; user?: string };
  findings: { rule: string; key?: string }[];
  tag?: { event?: string };
}

/** The filter values the server would refuse, found before asking it (usage errors exit 2, as the help says). */
function badFilter(values: Record<string, string | boolean | undefined>): string | undefined {
  const decision = values.decision;
  if (typeof decision === 'string' && !['allow', 'warn', 'deny'].includes(decision))
    return `--decision must be allow, warn or deny, got ${decision}`;
  for (const name of ['since', 'until'] as const) {
    const value = values[name];
    if (typeof value === 'string' && Number.isNaN(Date.parse(value)))
      return `--${name} must be an ISO 8601 time such as 2026-12-01T10:00:00Z, got ${value}`;
  }
  const limit = values.limit;
  if (typeof limit === 'string' && (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > 1000))
    return `--limit must be an integer from 1 to 1000, got ${limit}`;
  return undefined;
}

/**
 * What the client got: a decision is not always its answer. By default a refused image's HEAD is answered 200 with
 * its headers and only the GET is refused, so "deny HEAD" alone would read as a refusal the client never saw.
 */
export function answered(r: Pick<DecisionLine, 'method' | 'status' | 'decision'>): string {
  if (r.status === undefined) return r.method;
  if (r.status >= 400) return `${r.method} refused ${r.status}`;
  const what = r.method === 'HEAD' ? 'headers' : 'served';
  const note = r.decision === 'deny' ? ' (refusal comes on the GET)' : '';
  return `${r.method} ${what} ${r.status}${note}`;
}

export async function runDecisions(argv: string[], io: CliIo = processIo): Promise<number> {
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
    io.stderr(`pullgate decisions: ${(err as Error).message}\n${decisionsUsage}`);
    return 2;
  }
  if (values.help === true) {
    io.stdout(decisionsUsage);
    return 0;
  }
  const bad = badFilter(values);
  if (bad !== undefined) {
    io.stderr(`pullgate decisions: ${bad}\n`);
    return 2;
  }
  const server = String(values.server ?? defaultServerUrl(io.env)).replace(/\/+$/, '');
  const token = adminToken(io.env);
  if (!token) {
    io.stderr(
      'pullgate decisions: neither PULLGATE_TOKEN nor PULLGATE_ADMIN_TOKEN is set: export a personal token (pullgate tokens create) or the token the server was started with\n',
    );
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
    io.stderr(`pullgate decisions: cannot reach ${server}: ${(err as Error).message}\n`);
    return 1;
  }
  if (result.status !== 200) {
    io.stderr(
      `pullgate decisions: server answered ${result.status}: ${apiMessage(result)}${tokenHint(result.status, io.env)}\n`,
    );
    return 1;
  }
  if (values.json === true) {
    io.stdout(`${JSON.stringify(result.body)}\n`);
    return 0;
  }
  const page = result.body as { records: DecisionLine[]; nextCursor?: string | null };
  if (page.records.length === 0) io.stdout('no decisions match\n');
  for (const r of page.records) {
    const rules = r.findings.map((f) => (f.key ? `${f.rule}:${f.key}` : f.rule)).join(',') || '-';
    const who = r.client.user ?? r.client.address;
    // A digest is written repository@digest, a tag repository:tag (distribution-spec references).
    const ref = r.reference.includes(':') ? `@${r.reference}` : `:${r.reference}`;
    // A tag served from its pin (or refused until reviewed) says so: it looks like any other answer otherwise.
    const tag = r.tag?.event !== undefined && r.tag.event !== 'unchanged' ? `  tag ${r.tag.event}` : '';
    io.stdout(
      `${r.time}  ${r.decision.padEnd(5)}  ${answered(r)}  ${r.repository}${ref}  ${who}  ${rules}${tag}\n`,
    );
  }
  if (page.nextCursor) io.stdout(`(more: --cursor ${page.nextCursor})\n`);
  return 0;
}
