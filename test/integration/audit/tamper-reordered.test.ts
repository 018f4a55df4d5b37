import { describe, expect, it } from 'vitest';
import { verifyLogDir } from '../../../src/audit/index.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { fileNames, readLines, writeDecisions, writeLines } from './log-dir.js';

describe('tamper evidence: reordered records', () => {
  it('is reported as reordered at the first record out of place', async () => {
    await using tmp = await makeTempDir('audit-reorder');
    await writeDecisions({ dir: tmp.path, maxFileBytes: 2048 }, 20);
    const name = (await fileNames(tmp.path))[1] ?? '';
    const lines = await readLines(tmp.path, name);
    const [a, b] = [lines[0] ?? '', lines[1] ?? ''];
    lines[0] = b;
    lines[1] = a;
    await writeLines(tmp.path, name, lines);
    const moved = (JSON.parse(b) as { seq: number }).seq;

    expect(await verifyLogDir(tmp.path)).toMatchObject({
      ok: false,
      problem: 'reordered',
      file: name,
      line: 1,
      seq: moved,
    });
  });
});
