import { parseArgs } from 'node:util';
import type { AlertView } from '../tags/alert-view.js';
import type { TagHistoryView } from '../tags/history.js';
import {
  type ApiResult,
  adminToken,
  apiMessage,
  callAdmin as call,
  unreachableMessage,
} from './admin-client.js';
import { defaultServerUrl, serverHelp, tokenHint } from './server-url.js';

const usage = `usage:
  pullgate alerts list [--status open|approved|rejected] [--repository R] [--tag T] [--upstream U] [--limit N] [--json]
  pullgate alerts show ID [--json]
  pullgate alerts approve ID --reason TEXT [--json]
  pullgate alerts reject ID --reason TEXT [--json]
  pullgate alerts reopen ID --reason TEXT [--json]
  pullgate alerts history REPOSITORY:TAG [--upstream U] [--json]     (also: pullgate tags history ...)

options:
${serverHelp}

exit status: 0 ok, 1 the server refused or could not be reached, 2 usage error
`;

import { renderDiff } from './diff-text.js';

class UsageError extends Error {}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
};

function short(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) {
    for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
  }
  const lines = rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

function renderAlert(a: AlertView): string {
  const lines = [
    `alert ${a.id}  ${a.status}  severity ${a.severity}  action ${a.action}`,
    `tag       ${a.registry ?? a.upstream}/${a.repository}:${a.tag} (${a.kind})`,
    `old       ${a.old.digest}  first seen ${a.old.firstSeen ?? '?'}  last seen ${a.old.lastSeen ?? '?'}`,
    `new       ${a.new.digest}  first seen ${a.new.firstSeen ?? '?'}  last seen ${a.new.lastSeen ?? '?'}`,
    `created   ${a.createdAt}`,
  ];
  if (a.decision !== null && a.decision !== undefined) lines.push(`decision  ${JSON.stringify(a.decision)}`);
  const changes = renderDiff(a.diff);
  if (changes.length > 0) {
    lines.push('changes:');
    for (const c of changes) lines.push(`  ${c}`);
  }
  for (const r of a.reviews ?? [])
    lines.push(`review    ${r.action} by ${r.reviewer} (${r.auth}) at ${r.at}: ${r.reason}`);
  return `${lines.join('\n')}\n`;
}

function renderHistory(h: TagHistoryView): string {
  let out = `${h.registry ?? h.upstream}/${h.repository}:${h.tag}\n`;
  for (const s of h.approved)
    out += `approved ${s.kind}: ${s.digest}${s.pinned ? ' (pinned)' : ''} since ${s.approvedAt}\n`;
  out += table([
    ['DIGEST', 'KIND', 'FIRST SEEN', 'LAST SEEN', 'COUNT'],
    ...h.observations.map((o) => [short(o.digest), o.kind, o.firstSeen, o.lastSeen, String(o.count)]),
  ]);
  if (h.alerts.length > 0) {
    out += table([
      ['ALERT', 'STATUS', 'OLD', 'NEW', 'CREATED'],
      ...h.alerts.map((a) => [String(a.id), a.status, short(a.old.digest), short(a.new.digest), a.createdAt]),
    ]);
  }
  return out;
}

/** Splits `repo:tag` (the repository may start with `host:port/`). */
export function splitRepoTag(ref: string): { name: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon <= slash || colon === ref.length - 1) throw new UsageError(`expected REPOSITORY:TAG, got ${ref}`);
  return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

function positionalId(values: string[]): string {
  const [id, ...rest] = values;
  if (id === undefined || !/^[1-9]\d*$/.test(id))
    throw new UsageError('expected an alert ID (a positive integer)');
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  return id;
}

async function run(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      server: { type: 'string' },
      json: { type: 'boolean', default: false },
      status: { type: 'string' },
      repository: { type: 'string' },
      tag: { type: 'string' },
      upstream: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      reason: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help === true || sub === undefined || sub === 'help') {
    (sub === undefined ? io.err : io.out)(usage);
    return sub === undefined ? 2 : 0;
  }
  const server = values.server ?? defaultServerUrl(io.env);
  if (!/^https?:\/\//.test(server)) throw new UsageError('--server must be an http:// or https:// URL');
  const token = adminToken(io.env);
  const json = values.json === true;

  let result: ApiResult;
  let render: (body: unknown) => string;
  switch (sub) {
    case 'list': {
      if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
      const q = new URLSearchParams();
      for (const k of ['status', 'repository', 'tag', 'upstream', 'limit', 'cursor'] as const) {
        const v = values[k];
        if (v !== undefined) q.set(k, v);
      }
      result = await call(server, token, 'GET', `admin/alerts${q.size > 0 ? `?${q}` : ''}`);
      render = (body) => {
        const page = body as { alerts: Omit<AlertView, 'diff'>[]; nextCursor: string | null };
        if (page.alerts.length === 0) return 'no alerts\n';
        let out = table([
          ['ID', 'STATUS', 'SEVERITY', 'ACTION', 'TAG', 'OLD', 'NEW', 'CREATED'],
          ...page.alerts.map((a) => [
            String(a.id),
            a.status,
            a.severity,
            a.action,
            `${a.repository}:${a.tag}`,
            short(a.old.digest),
            short(a.new.digest),
            a.createdAt,
          ]),
        ]);
        if (page.nextCursor !== null) out += `more: --cursor ${page.nextCursor}\n`;
        return out;
      };
      break;
    }
    case 'show': {
      const id = positionalId(positionals);
      result = await call(server, token, 'GET', `admin/alerts/${id}`);
      render = (body) => renderAlert(body as AlertView);
      break;
    }
    case 'approve':
    case 'reject':
    case 'reopen': {
      const id = positionalId(positionals);
      if (values.reason === undefined || values.reason.trim() === '')
        throw new UsageError(`${sub} needs --reason`);
      // No --reviewer: the server records the name the token belongs to.
      result = await call(server, token, 'POST', `admin/alerts/${id}/${sub}`, { reason: values.reason });
      const done = { approve: 'approved', reject: 'rejected', reopen: 'reopened' }[sub];
      render = (body) => `${done}\n${renderAlert(body as AlertView)}`;
      break;
    }
    case 'history': {
      const [ref, ...extra] = positionals;
      if (ref === undefined || extra.length > 0) throw new UsageError('history takes one REPOSITORY:TAG');
      const { name, tag } = splitRepoTag(ref);
      const q = new URLSearchParams({ name, tag });
      if (values.upstream !== undefined) q.set('upstream', values.upstream);
      result = await call(server, token, 'GET', `admin/tags/history?${q}`);
      render = (body) => renderHistory(body as TagHistoryView);
      break;
    }
    default:
      throw new UsageError(`unknown alerts command ${sub}`);
  }
  if (result.status < 200 || result.status >= 300) {
    io.err(`pullgate: ${apiMessage(result)}${tokenHint(result.status, io.env)}\n`);
    return 1;
  }
  io.out(json ? `${JSON.stringify(result.body, null, 2)}\n` : render(result.body));
  return 0;
}

async function guarded(argv: string[], io: Io): Promise<number> {
  try {
    return await run(argv, io);
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      io.err(`pullgate: ${err.message}\n${usage}`);
      return 2;
    }
    io.err(unreachableMessage(err));
    return 1;
  }
}

/** `pullgate alerts ...`: exit 0 ok, 1 API error, 2 usage. */
export async function runAlerts(argv: string[], io: Io = defaultIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(usage);
    return argv.length === 0 ? 2 : 0;
  }
  return guarded(argv, io);
}

/** `pullgate tags history REPOSITORY:TAG`: the same as `pullgate alerts history`. */
export async function runTags(argv: string[], io: Io = defaultIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(usage);
    return 0;
  }
  if (sub !== 'history') {
    io.err(`pullgate: expected "tags history REPOSITORY:TAG"\n${usage}`);
    return 2;
  }
  return guarded(['history', ...rest], io);
}
