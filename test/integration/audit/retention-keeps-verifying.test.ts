import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAnchor } from '../../../src/audit/files.js';
import { AuditLog, verifyLogDir } from '../../../src/audit/index.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { decisionInput } from '../../unit/audit/sample-records.js';
import { allSeqs, fileNames, writeDecisions } from './log-dir.js';

describe('retention', () => {
  it('keeps the newest files by count, anchors the kept chain, and the log still verifies', async () => {
    await using tmp = await makeTempDir('audit-retention-count');
    const records = await writeDecisions({ dir: tmp.path, maxFileBytes: 2048, retentionFiles: 3 }, 40);
    const names = await fileNames(tmp.path);
    expect(names).toHaveLength(3);

    const seqs = await allSeqs(tmp.path);
    const firstKept = seqs[0] ?? 0;
    expect(firstKept).toBeGreaterThan(1);
    expect(seqs[seqs.length - 1]).toBe(40);
    expect(await readAnchor(tmp.path)).toMatchObject({
      seq: firstKept - 1,
      hash: records[firstKept - 2]?.hash,
      file: names[0],
    });
    expect(await verifyLogDir(tmp.path)).toMatchObject({ ok: true, records: seqs.length, head: { seq: 40 } });
  });

  it('keeps a verifiable chain with a single retained file', async () => {
    await using tmp = await makeTempDir('audit-retention-one');
    await writeDecisions({ dir: tmp.path, maxFileBytes: 2048, retentionFiles: 1 }, 20);
    expect(await fileNames(tmp.path)).toHaveLength(1);
    expect(await verifyLogDir(tmp.path)).toMatchObject({ ok: true, head: { seq: 20 } });
  });

  it('deletes files older than the retention age at the next start', async () => {
    await using tmp = await makeTempDir('audit-retention-age');
    await writeDecisions({ dir: tmp.path, maxFileBytes: 2048 }, 20);
    const names = await fileNames(tmp.path);
    const old = new Date(Date.now() - 10 * 24 * 60 * 60 * 1000);
    for (const name of names.slice(0, 2)) await utimes(join(tmp.path, name), old, old);

    const log = await AuditLog.open({ dir: tmp.path, maxFileBytes: 2048, retentionDays: 7 });
    await log.append(decisionInput());
    await log.close();

    expect(await fileNames(tmp.path)).toEqual(names.slice(2));
    expect(await verifyLogDir(tmp.path)).toMatchObject({ ok: true, head: { seq: 21 } });
  });

  it('reports a kept chain whose anchor does not match as broken', async () => {
    await using tmp = await makeTempDir('audit-retention-forged');
    await writeDecisions({ dir: tmp.path, maxFileBytes: 2048, retentionFiles: 2 }, 20);
    const { writeAnchor } = await import('../../../src/audit/files.js');
    const anchor = await readAnchor(tmp.path);
    if (anchor === undefined) throw new Error('no anchor');
    await writeAnchor(tmp.path, { ...anchor, hash: 'f'.repeat(64) });
    expect(await verifyLogDir(tmp.path)).toMatchObject({ ok: false, problem: 'edited', seq: anchor.seq + 1 });
  });
});
