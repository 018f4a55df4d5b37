import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const logVerifyUsage = `usage: pullgate log verify [--data-dir DIR] [--public-key FILE] [--checkpoint FILE]... [--json]

Checks the decision log offline and reports the first problem: a record edited, deleted or reordered;
records cut from the end (truncated: the chain ends before a checkpoint's count); a chain that does not
match a checkpoint (rewritten: the hash at the checkpoint's count differs); a checkpoint whose signature
does not verify (bad-signature). DIR defaults to PULLGATE_DATA_DIR or ./data; the log is DIR/audit and
its latest checkpoint DIR/audit/checkpoint.

  --public-key FILE   the Ed25519 public key (PEM) checkpoints are signed with; every checkpoint,
                      the log's own included, must then carry a signature by it
  --checkpoint FILE   a checkpoint kept outside the data directory (from a webhook or SIEM); repeatable

Exit 0 when the log verifies, 1 when it does not, 2 on bad usage.
`;

export async function runLogVerify(argv: string[]): Promise<number> {
  let values: {
    'data-dir'?: string;
    'public-key'?: string;
    checkpoint?: string[];
    json?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
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
  const dataDir = resolve(values['data-dir'] ?? process.env.PULLGATE_DATA_DIR ?? './data');
  const report = await verifyLogDir(join(dataDir, 'audit'), {
    checkpoints,
    ...(publicKey === undefined ? {} : { publicKey }),
  });
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${formatVerifyReport(report)}\n`);
  return report.ok ? 0 : 1;
}
