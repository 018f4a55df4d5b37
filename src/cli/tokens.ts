import { parseArgs } from 'node:util';
import { adminToken, apiMessage, callAdmin, unreachableMessage } from './admin-client.js';
import { defaultServerUrl, serverHelp } from './server-url.js';

const usage = `usage:
  pullgate tokens create --name NAME [--role viewer|reviewer|admin] [--expires DAYS] [--json]
  pullgate tokens list [--json]
  pullgate tokens revoke ID

Personal API tokens for the CLI and automation, sent as Authorization: Bearer. The token is printed once,
when it is created; the server keeps only its hash. Default role reviewer, default expiry 90 days (at most 366).
Managing tokens needs the admin role: PULLGATE_TOKEN of an admin, or the break-glass PULLGATE_ADMIN_TOKEN.

options:
${serverHelp}
`;

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

interface TokenJson {
  id: number;
  name: string;
  role: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  token?: string;
}

/** `pullgate tokens ...`: exit 0 ok, 1 the server refused or could not be reached, 2 usage. */
export async function runTokens(argv: string[], io: Io = defaultIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.err(`pullgate: ${err instanceof Error ? err.message : String(err)}\n${usage}`);
    return 2;
  }
  const { sub, values, positionals } = parsed;
  if (sub === undefined || values.help === true) {
    (sub === undefined ? io.err : io.out)(usage);
    return sub === undefined ? 2 : 0;
  }
  // The same lookup as the other admin commands, so the environment that finds the server for them finds it here.
  const server = values.server ?? defaultServerUrl(io.env);
  const token = adminToken(io.env);
  let result: Awaited<ReturnType<typeof callAdmin>>;
  try {
    switch (sub) {
      case 'create': {
        if (values.name === undefined || positionals.length > 0) {
          io.err(`pullgate: tokens create needs --name\n${usage}`);
          return 2;
        }
        const days = values.expires === undefined ? undefined : Number(values.expires.replace(/d$/, ''));
        if (days !== undefined && !Number.isInteger(days)) {
          io.err('pullgate: --expires takes a number of days (1-366)\n');
          return 2;
        }
        result = await callAdmin(server, token, 'POST', 'admin/tokens', {
          name: values.name,
          ...(values.role !== undefined ? { role: values.role } : {}),
          ...(days !== undefined ? { expiresInDays: days } : {}),
        });
        break;
      }
      case 'list':
        result = await callAdmin(server, token, 'GET', 'admin/tokens');
        break;
      case 'revoke': {
        const [id, ...rest] = positionals;
        if (id === undefined || rest.length > 0 || !/^[1-9]\d*$/.test(id)) {
          io.err(`pullgate: tokens revoke takes one token ID\n${usage}`);
          return 2;
        }
        result = await callAdmin(server, token, 'DELETE', `admin/tokens/${id}`);
        break;
      }
      default:
        io.err(`pullgate: unknown tokens command ${sub}\n${usage}`);
        return 2;
    }
  } catch (err) {
    io.err(unreachableMessage(err, server));
    return 1;
  }
  if (result.status < 200 || result.status >= 300) {
    io.err(`pullgate: ${apiMessage(result)}\n`);
    return 1;
  }
  if (values.json === true) {
    io.out(`${JSON.stringify(result.body, null, 2)}\n`);
    return 0;
  }
  if (sub === 'create') {
    const t = result.body as TokenJson;
    io.out(
      `${t.token ?? ''}\n` +
        `token ${t.id} for ${t.name} (${t.role}), expires ${t.expiresAt ?? 'never'}; shown only now: store it as a secret\n`,
    );
  } else if (sub === 'list') {
    const { tokens } = result.body as { tokens: TokenJson[] };
    if (tokens.length === 0) io.out('no tokens\n');
    for (const t of tokens) {
      const state = t.revokedAt !== null ? `revoked ${t.revokedAt}` : `expires ${t.expiresAt ?? 'never'}`;
      io.out(
        `${t.id}\t${t.name}\t${t.role}\t${state}\tcreated by ${t.createdBy}\tlast used ${t.lastUsedAt ?? 'never'}\n`,
      );
    }
  } else {
    io.out('revoked\n');
  }
  return 0;
}

function parse(argv: string[]) {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      server: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      expires: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  return { sub: sub === 'help' || sub === '--help' || sub === '-h' ? 'help' : sub, values, positionals };
}
