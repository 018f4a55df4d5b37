import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const logVerifyUsage = `usage: pullgate log verify [--data-dir DIR] [--json]

Checks the decision log's hash chain offline and reports the first broken record (edited, deleted,
reordered or truncated). DIR defaults to PULLGATE_DATA_DIR or ./data; the log is DIR/audit.
Exit 0 when the chain verifies, 1 when it is broken, 2 on bad usage.
`;

export async function runLogVerify(argv: string[]): Promise<number> {
  let values: { 'data-dir'?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
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
  const dataDir = resolve(values['data-dir'] ?? process.env.PULLGATE_DATA_DIR ?? './data');
  const report = await verifyLogDir(join(dataDir, 'audit'));
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `${formatVerifyReport(report)}\n`);
  return report.ok ? 0 : 1;
}
