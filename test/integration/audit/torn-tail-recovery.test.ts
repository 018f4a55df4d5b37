import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, logFileName, queryRecords, verifyLogDir } from '../../../src/audit/index.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { decisionInput } from '../../unit/audit/sample-records.js';
import { allSeqs, fileNames, writeDecisions } from './log-dir.js';

describe('recovery of a torn last line on start', () => {
  it('cuts the incomplete line, records the cut on the chain, and the log verifies', async () => {
    await using tmp = await makeTempDir('audit-torn');
    await writeDecisions({ dir: tmp.path }, 5);
    const [name] = await fileNames(tmp.path);
    if (name === undefined) throw new Error('no log file');
    const torn = '{"client":{"address":"127.0.0.1"},"decision":"al';
    await appendFile(join(tmp.path, name), torn);

    const offline = await verifyLogDir(tmp.path);
    expect(offline).toMatchObject({ ok: true, tornTail: { file: name, line: 6 } });

    const warnings: object[] = [];
    const logger = { info() {}, error() {}, warn: (obj: object) => void warnings.push(obj) };
    const log = await AuditLog.open({ dir: tmp.path, logger });
    const next = await log.append(decisionInput({ requestId: 'after-restart' }));
    await log.close();

    expect(warnings).toEqual([{ file: name, bytes: Buffer.byteLength(torn) }]);
    expect(next.seq).toBe(7);
    const report = await verifyLogDir(tmp.path);
    expect(report).toMatchObject({ ok: true, records: 7, head: { seq: 7 } });
    expect(report.ok && report.tornTail).toBeFalsy();
    const { records } = await queryRecords(tmp.path, { types: ['recovery'] });
    expect(records).toMatchObject([
      { type: 'recovery', seq: 6, file: name, truncatedBytes: Buffer.byteLength(torn), reason: 'torn-tail' },
    ]);
  });

  it('removes a newest file that holds nothing but a torn line and continues from the file before', async () => {
    await using tmp = await makeTempDir('audit-torn-file');
    await writeDecisions({ dir: tmp.path }, 3);
    const empty = logFileName(4);
    await writeFile(join(tmp.path, empty), '{"v":1,"seq":4');

    const log = await AuditLog.open({ dir: tmp.path });
    await log.close();

    expect(await fileNames(tmp.path)).toEqual([logFileName(1)]);
    expect(await allSeqs(tmp.path)).toEqual([1, 2, 3, 4]);
    expect(await verifyLogDir(tmp.path)).toMatchObject({ ok: true, records: 4 });
  });
});
