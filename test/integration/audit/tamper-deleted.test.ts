import { describe, expect, it } from 'vitest';
import { verifyLogDir } from '../../../src/audit/index.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { fileNames, readLines, writeDecisions, writeLines } from './log-dir.js';

describe('tamper evidence: a deleted record', () => {
  it('is reported as deleted at the record after the gap, naming the missing seq', async () => {
    await using tmp = await makeTempDir('audit-delete');
    await writeDecisions({ dir: tmp.path, maxFileBytes: 2048 }, 20);
    const name = (await fileNames(tmp.path))[1] ?? '';
    const lines = await readLines(tmp.path, name);
    const [removed] = lines.splice(1, 1);
    const seq = (JSON.parse(removed ?? '') as { seq: number }).seq;
    await writeLines(tmp.path, name, lines);

    expect(await verifyLogDir(tmp.path)).toMatchObject({
      ok: false,
      problem: 'deleted',
      file: name,
      line: 2,
      seq,
    });
  });
});
