import { describe, expect, it } from 'vitest';
import { openAuditLog } from '../../../src/audit/index.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { decisionInput } from '../../unit/audit/sample-records.js';
import { fileNames } from './log-dir.js';

describe('a disabled log', () => {
  it('accepts appends and writes nothing', async () => {
    await using tmp = await makeTempDir('audit-off');
    const log = await openAuditLog({ dir: tmp.path, enabled: false });
    expect(log.enabled).toBe(false);
    await expect(log.append(decisionInput())).resolves.toBeUndefined();
    await log.close();
    expect(await fileNames(tmp.path)).toEqual([]);
  });
});
