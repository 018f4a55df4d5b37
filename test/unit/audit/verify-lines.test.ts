import { describe, expect, it } from 'vitest';
import { ChainVerifier, seal } from '../../../src/audit/chain.js';
import { type ChainHead, GENESIS_HEAD, verifyLines } from '../../../src/audit/index.js';

const TIME = '2024-01-01T00:00:00.000Z';

function chain(count: number, start: ChainHead = GENESIS_HEAD): string[] {
  const lines: string[] = [];
  let head = start;
  for (let i = 0; i < count; i++) {
    const seq = head.seq + 1;
    const { hash, line } = seal({ seq, time: TIME, prev: head.hash }, { type: 'review', n: i });
    head = { seq, hash };
    lines.push(line);
  }
  return lines;
}

const asFile = (lines: readonly string[]) => [...lines, ''];

describe('verifyLines', () => {
  it('accepts an intact chain and reports its head', () => {
    const result = verifyLines(asFile(chain(5)));
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.head.seq).toBe(5);
  });

  it('continues from a given head', () => {
    const first = chain(3);
    const r1 = verifyLines(asFile(first));
    if (!r1.ok) throw new Error('first part should verify');
    const rest = chain(2, r1.head);
    expect(verifyLines(asFile(rest), r1.head).ok).toBe(true);
    expect(verifyLines(asFile(rest)).ok).toBe(false);
  });

  it('reports an edited field as edited at that record', () => {
    const lines = chain(5);
    lines[2] = (lines[2] ?? '').replace('"n":2', '"n":9');
    expect(verifyLines(asFile(lines))).toMatchObject({ ok: false, problem: 'edited', line: 3, seq: 3 });
  });

  it('reports a rewritten record with a recomputed hash as edited at that record', () => {
    const lines = chain(5);
    const {
      v: _v,
      seq,
      time,
      prev,
      hash: _hash,
      ...body
    } = JSON.parse(lines[1] ?? '') as Record<string, unknown>;
    lines[1] = seal({ seq: Number(seq), time: String(time), prev: String(prev) }, { ...body, n: 42 }).line;
    expect(verifyLines(asFile(lines))).toMatchObject({ ok: false, problem: 'edited', line: 2, seq: 2 });
  });

  it('reports a deleted line as deleted, naming the missing seq', () => {
    const lines = chain(5);
    lines.splice(2, 1);
    expect(verifyLines(asFile(lines))).toMatchObject({ ok: false, problem: 'deleted', line: 3, seq: 3 });
  });

  it('counts only the records before a deleted one as verified, not the record after the gap', () => {
    const lines = chain(7);
    lines.splice(4, 1); // record 5 deleted: records 1-4 verify, record 6 cannot (its predecessor is gone)
    const verifier = new ChainVerifier();
    let out: ReturnType<ChainVerifier['push']> | undefined;
    for (const [i, line] of lines.entries()) {
      out = verifier.push(line, { file: 'f', line: i + 1 });
      if ('ok' in out) break;
    }
    expect(out).toMatchObject({ ok: false, problem: 'deleted', seq: 5 });
    expect(verifier.verified).toBe(4);
  });

  it('reports a gap on the last line as deleted (decided at the end of input)', () => {
    const lines = chain(3);
    lines.splice(1, 1);
    expect(verifyLines(asFile(lines))).toMatchObject({ ok: false, problem: 'deleted', seq: 2 });
  });

  it('reports two swapped lines as reordered at the first one out of place', () => {
    const lines = chain(5);
    const [a, b] = [lines[1] ?? '', lines[2] ?? ''];
    lines[1] = b;
    lines[2] = a;
    expect(verifyLines(asFile(lines))).toMatchObject({ ok: false, problem: 'reordered', line: 2, seq: 3 });
  });

  it('reports a repeated line as reordered', () => {
    const lines = chain(3);
    lines.push(lines[0] ?? '');
    expect(verifyLines(asFile(lines))).toMatchObject({ ok: false, problem: 'reordered', line: 4, seq: 1 });
  });

  it('reports an unterminated last line as torn and a garbage line as malformed', () => {
    const lines = chain(3);
    expect(verifyLines([...lines, '{"v":1,"ty'])).toMatchObject({ ok: false, problem: 'torn', line: 4 });
    expect(verifyLines(asFile([...lines.slice(0, 2), 'not json', ...lines.slice(2)]))).toMatchObject({
      ok: false,
      problem: 'malformed',
      line: 3,
    });
  });

  it('treats a line in another key order as edited: the hash covers the bytes as written', () => {
    const lines = chain(2);
    const rec = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(rec).reverse()));
    expect(JSON.parse(reordered)).toEqual(rec);
    expect(verifyLines(asFile([reordered, lines[1] ?? '']))).toMatchObject({
      ok: false,
      problem: 'edited',
      line: 1,
    });
  });
});
