import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, verifyLogDir } from '../../../src/audit/index.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { decisionInput } from '../../unit/audit/sample-records.js';

describe('group commit', () => {
  it('writes appends that arrive together with one write and fsync, and each is on disk when it resolves', async () => {
    await using tmp = await makeTempDir('audit-group');
    const log = await AuditLog.open({ dir: tmp.path, maxBatch: 50 });
    const file = join(tmp.path, 'decisions-000000000001.jsonl');
    const onDiskWhenResolved: boolean[] = [];
    const appends = Array.from({ length: 200 }, (_, i) =>
      log.append(decisionInput({ requestId: `c${i}` })).then(async (record) => {
        onDiskWhenResolved.push((await readFile(file, 'utf8')).includes(`"hash":"${record.hash}"`));
        return record;
      }),
    );
    const records = await Promise.all(appends);
    const stats = log.stats();
    await log.close();

    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(records.map((r) => (r.type === 'decision' ? r.requestId : r.type))).toEqual(
      Array.from({ length: 200 }, (_, i) => `c${i}`),
    );
    expect(stats.batches).toBe(4);
    expect(stats.records).toBe(200);
    expect(onDiskWhenResolved.every(Boolean)).toBe(true);
    expect(await verifyLogDir(tmp.path)).toMatchObject({ ok: true, records: 200 });
  });

  it('rejects appends after close and flushes what was queued before it', async () => {
    await using tmp = await makeTempDir('audit-close');
    const log = await AuditLog.open({ dir: tmp.path });
    const queued = log.append(decisionInput());
    await log.close();
    await expect(queued).resolves.toMatchObject({ seq: 1 });
    await expect(log.append(decisionInput())).rejects.toThrow('audit log is closed');
  });
});
