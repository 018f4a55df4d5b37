import { describe, expect, it } from 'vitest';
import { AuditLog, queryDecisions } from '../../../src/audit/index.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { decisionInput } from '../../unit/audit/sample-records.js';

describe('queryDecisions pagination', () => {
  it('pages newest first across files without gaps or repeats, stable while the log grows', async () => {
    await using tmp = await makeTempDir('audit-page');
    const log = await AuditLog.open({ dir: tmp.path, maxFileBytes: 2048 });
    for (let i = 1; i <= 23; i++) {
      await log.append(decisionInput({ requestId: `r${i}`, decision: i % 2 === 0 ? 'deny' : 'allow' }));
    }

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await queryDecisions(tmp.path, { limit: 5, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.records.map((r) => r.requestId));
      cursor = page.nextCursor;
      pages++;
      // New records arriving between pages must not shift later pages.
      if (pages === 1) await log.append(decisionInput({ requestId: 'late' }));
    } while (cursor !== undefined);
    await log.close();

    expect(pages).toBe(5);
    expect(seen).toEqual(Array.from({ length: 23 }, (_, i) => `r${23 - i}`));

    const denies = await queryDecisions(tmp.path, { decision: 'deny', limit: 11 });
    expect(denies.records).toHaveLength(11);
    expect(denies.nextCursor).toBeUndefined();
    const firstTwo = await queryDecisions(tmp.path, { decision: 'deny', limit: 2 });
    const next = await queryDecisions(tmp.path, {
      decision: 'deny',
      limit: 2,
      cursor: firstTwo.nextCursor ?? '',
    });
    expect([...firstTwo.records, ...next.records].map((r) => r.requestId)).toEqual([
      'r22',
      'r20',
      'r18',
      'r16',
    ]);
    await expect(queryDecisions(tmp.path, { cursor: 'nonsense' })).rejects.toThrow('invalid cursor');
  });
});
