import { describe, expect, it } from 'vitest';
import { seal } from '../../../src/audit/chain.js';
import { canonicalJson, computeHash, GENESIS_HEAD, verifyLines } from '../../../src/audit/index.js';

// Logs written before the v2 format (canonical JSON, hash over the canonical form) keep verifying,
// and a log that spans the upgrade verifies across the switch.

const TIME = '2024-01-01T00:00:00.000Z';

function v1Line(seq: number, prev: string, n: number): { line: string; hash: string } {
  const unsealed = { v: 1, type: 'review', seq, time: TIME, prev, n };
  const hash = computeHash(unsealed);
  return { line: canonicalJson({ ...unsealed, hash }), hash };
}

describe('v1 records', () => {
  it('verify, and a v2 record continues a v1 chain', () => {
    const first = v1Line(1, GENESIS_HEAD.hash, 0);
    const second = v1Line(2, first.hash, 1);
    const third = seal({ seq: 3, time: TIME, prev: second.hash }, { type: 'review', n: 2 });
    const result = verifyLines([first.line, second.line, third.line, '']);
    expect(result).toMatchObject({ ok: true, head: { seq: 3, hash: third.hash } });
  });

  it('an edited v1 record is still reported as edited', () => {
    const first = v1Line(1, GENESIS_HEAD.hash, 0);
    const second = v1Line(2, first.hash, 1);
    const edited = first.line.replace('"n":0', '"n":7');
    expect(verifyLines([edited, second.line, ''])).toMatchObject({ ok: false, problem: 'edited', line: 1 });
  });

  it('a record of an unknown format version is malformed, not trusted', () => {
    const line = seal({ seq: 1, time: TIME, prev: GENESIS_HEAD.hash }, { type: 'review' }).line.replace(
      '"v":2',
      '"v":3',
    );
    expect(verifyLines([line, ''])).toMatchObject({ ok: false, problem: 'malformed', line: 1 });
  });
});
