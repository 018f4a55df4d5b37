import { describe, expect, it } from 'vitest';
import { verifyLogDir } from '../../../src/audit/index.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { fileNames, readLines, writeDecisions, writeLines } from './log-dir.js';

describe('tamper evidence: an edited record', () => {
  it('is reported as edited, naming its file, line and seq', async () => {
    await using tmp = await makeTempDir('audit-edit');
    await writeDecisions({ dir: tmp.path, maxFileBytes: 2048 }, 20);
    const name = (await fileNames(tmp.path))[1] ?? '';
    const lines = await readLines(tmp.path, name);
    const target = JSON.parse(lines[1] ?? '') as { seq: number };
    lines[1] = (lines[1] ?? '').replace('"decision":"allow"', '"decision":"deny"');
    await writeLines(tmp.path, name, lines);

    expect(await verifyLogDir(tmp.path)).toMatchObject({
      ok: false,
      problem: 'edited',
      file: name,
      line: 2,
      seq: target.seq,
    });
  });
});
