import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const logVerifyUsage = `usage: pullgate log verify [--data-dir DIR]... [--public-key FILE] [--checkpoint FILE]... [--json]

Checks the decision log offline and reports the first problem: a record edited, deleted or reordered;
records cut from the end (truncated: the chain ends before a checkpoint's count); a chain that does not
match a checkpoint (rewritten: the hash at the checkpoint's count differs); a checkpoint whose signature
does not verify (bad-signature). DIR defaults to PULLGATE_DATA_DIR or ./data; the log is DIR/audit and
its latest checkpoint DIR/audit/checkpoint.

Several replicas: give --data-dir once per replica, or a DIR holding one directory per replica
(DIR/<replica>/audit); each replica's chain (and its own checkpoint) is checked on its own.

  --public-key FILE   the Ed25519 public key (PEM) checkpoints are signed with; every checkpoint,
                      the log's own included, must then carry a signature by it
  --checkpoint FILE   a checkpoint kept outside the data directory (from a webhook or SIEM); repeatable;
                      only with a single replica's log

Exit 0 when every log verifies, 1 when one does not, 2 on bad usage.
`;

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** DIR/audit when DIR is one replica's data dir; else every DIR/<replica>/audit. */
async function logDirs(dataDir: string): Promise<{ replica: string; dir: string }[]> {
  if (await isDir(join(dataDir, 'audit'))) return [{ replica: dataDir, dir: join(dataDir, 'audit') }];
  const names = await readdir(dataDir).catch(() => [] as string[]);
  const found: { replica: string; dir: string }[] = [];
  for (const name of names.sort()) {
    const dir = join(dataDir, name, 'audit');
    if (await isDir(dir)) found.push({ replica: name, dir });
  }
  return found;
}

export async function runLogVerify(argv: string[]): Promise<number> {
  let values: {
    'data-dir'?: string[];
    'public-key'?: string;
    checkpoint?: string[];
    json?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string', multiple: true },
        'public-key': { type: 'string' },
        checkpoint: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`pullgate log verify: ${(err as Error).message}\n${logVerifyUsage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(logVerifyUsage);
    return 0;
  }
  const { verifyLogDir, formatVerifyReport } = await import('../audit/index.js');
  const { loadPublicKey } = await import('../audit/signing-key.js');
  let publicKey: import('node:crypto').KeyObject | undefined;
  if (values['public-key'] !== undefined) {
    const loaded = loadPublicKey(values['public-key']);
    if (!loaded.ok) {
      process.stderr.write(`pullgate log verify: --public-key ${values['public-key']} ${loaded.problem}\n`);
      return 2;
    }
    publicKey = loaded.key;
  }
  const checkpoints: { source: string; content: string }[] = [];
  for (const file of values.checkpoint ?? []) {
    try {
      checkpoints.push({ source: file, content: await readFile(file, 'utf8') });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      process.stderr.write(`pullgate log verify: --checkpoint ${file} cannot be read (${code})\n`);
      return 2;
    }
  }
  const dataDirs = (values['data-dir'] ?? [process.env.PULLGATE_DATA_DIR ?? './data']).map((d) => resolve(d));
  const logs = (await Promise.all(dataDirs.map(logDirs))).flat();
  const options = { checkpoints, ...(publicKey === undefined ? {} : { publicKey }) };
  const [only] = logs;
  if (logs.length <= 1) {
    // One replica: the report as it always was (a missing DIR/audit reads as an empty log, as before).
    const report = await verifyLogDir(only?.dir ?? join(dataDirs[0] ?? resolve('./data'), 'audit'), options);
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${formatVerifyReport(report)}\n`);
    return report.ok ? 0 : 1;
  }
  if (checkpoints.length > 0) {
    process.stderr.write(
      `pullgate log verify: --checkpoint names one replica's log; found ${logs.length} logs under ${dataDirs.join(', ')}\n`,
    );
    return 2;
  }
  const reports = [];
  for (const log of logs) reports.push({ ...log, report: await verifyLogDir(log.dir, options) });
  const ok = reports.every((r) => r.report.ok);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ok, logs: reports })}\n`);
  } else {
    for (const r of reports)
      process.stdout.write(`${r.replica} (${r.dir}): ${formatVerifyReport(r.report)}\n`);
  }
  return ok ? 0 : 1;
}
