import { truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyLogDir } from '../../../src/audit/index.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { fileNames, readLines, writeDecisions, writeLines } from './log-dir.js';

describe('tamper evidence: a truncated file', () => {
  it('is reported when an older file is cut mid-line', async () => {
    await using tmp = await makeTempDir('audit-trunc-mid');
    await writeDecisions({ dir: tmp.path, maxFileBytes: 2048 }, 20);
    const name = (await fileNames(tmp.path))[1] ?? '';
    const lines = await readLines(tmp.path, name);
    const keep = `${lines[0]}\n${lines[1]}\n`.length + 10;
    await truncate(join(tmp.path, name), keep);
    const firstLost = (JSON.parse(lines[2] ?? '') as { seq: number }).seq;

    expect(await verifyLogDir(tmp.path)).toMatchObject({
      ok: false,
      problem: 'truncated',
      file: name,
      line: 3,
      seq: firstLost,
    });
  });

  it('is reported when an older file loses whole lines from its end', async () => {
    await using tmp = await makeTempDir('audit-trunc-lines');
    await writeDecisions({ dir: tmp.path, maxFileBytes: 2048 }, 20);
    const name = (await fileNames(tmp.path))[1] ?? '';
    const lines = await readLines(tmp.path, name);
    const firstLost = (JSON.parse(lines[2] ?? '') as { seq: number }).seq;
    await writeLines(tmp.path, name, [...lines.slice(0, 2), '']);

    expect(await verifyLogDir(tmp.path)).toMatchObject({
      ok: false,
      problem: 'truncated',
      file: name,
      line: 3,
      seq: firstLost,
    });
  });

  it('is reported when the newest file loses records and a saved head is given', async () => {
    await using tmp = await makeTempDir('audit-trunc-head');
    await writeDecisions({ dir: tmp.path, maxFileBytes: 2048 }, 20);
    const saved = await verifyLogDir(tmp.path);
    if (!saved.ok) throw new Error('fresh log should verify');
    const names = await fileNames(tmp.path);
    const name = names[names.length - 1] ?? '';
    const lines = await readLines(tmp.path, name);
    await writeLines(tmp.path, name, [...lines.slice(0, -2), '']);

    // Without a saved head a log cut at a line boundary looks like one that ends there.
    expect(await verifyLogDir(tmp.path)).toMatchObject({ ok: true, head: { seq: 19 } });
    expect(await verifyLogDir(tmp.path, { expectHead: saved.head })).toMatchObject({
      ok: false,
      problem: 'truncated',
      file: name,
      seq: 20,
    });
  });
});
