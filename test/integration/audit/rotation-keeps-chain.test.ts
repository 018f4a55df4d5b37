import { describe, expect, it } from 'vitest';
import { AuditLog, logFileName, verifyLogDir } from '../../../src/audit/index.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { decisionInput } from '../../unit/audit/sample-records.js';
import { allSeqs, fileNames, readLines, writeDecisions } from './log-dir.js';

describe('rotation', () => {
  it('starts a new file by size, names files by first seq, and chains across them', async () => {
    await using tmp = await makeTempDir('audit-rotate-size');
    const records = await writeDecisions({ dir: tmp.path, maxFileBytes: 2048 }, 30);
    const names = await fileNames(tmp.path);
    expect(names.length).toBeGreaterThan(3);
    expect(names[0]).toBe(logFileName(1));

    for (const [i, name] of names.entries()) {
      const lines = (await readLines(tmp.path, name)).filter((l) => l !== '');
      const first = JSON.parse(lines[0] ?? '') as { seq: number; prev: string };
      // The name says which record the file starts with; its prev is the last hash of the file before.
      expect(name).toBe(logFileName(first.seq));
      if (i > 0) expect(first.prev).toBe(records[first.seq - 2]?.hash);
      // No file grows past the limit once it holds a record.
      expect(lines.join('\n').length + 1).toBeLessThanOrEqual(2048);
    }
    expect(await allSeqs(tmp.path)).toEqual(records.map((r) => r.seq));
    expect(await verifyLogDir(tmp.path)).toMatchObject({ ok: true, records: 30, files: names.length });
  });

  it('starts a new file by age, including across a restart', async () => {
    await using tmp = await makeTempDir('audit-rotate-age');
    let clock = Date.parse('2024-05-01T00:00:00Z');
    const now = () => new Date(clock);
    const hour = 60 * 60 * 1000;
    let log = await AuditLog.open({ dir: tmp.path, maxFileAgeMs: hour, now });
    await log.append(decisionInput());
    clock += hour / 2;
    await log.append(decisionInput());
    await log.close();

    log = await AuditLog.open({ dir: tmp.path, maxFileAgeMs: hour, now });
    clock += hour / 2;
    await log.append(decisionInput());
    await log.append(decisionInput());
    await log.close();

    expect(await fileNames(tmp.path)).toEqual([logFileName(1), logFileName(3)]);
    expect(await verifyLogDir(tmp.path)).toMatchObject({ ok: true, records: 4 });
  });
});
