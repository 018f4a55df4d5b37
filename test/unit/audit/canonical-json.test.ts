import { describe, expect, it } from 'vitest';
import { canonicalJson, computeHash } from '../../../src/audit/index.js';

describe('canonical serialisation', () => {
  it('sorts keys at every level, drops undefined and keeps array order', () => {
    const a = canonicalJson({ b: 1, a: { d: [3, 1], c: 'x' }, e: undefined });
    const b = canonicalJson({ a: { c: 'x', d: [3, 1] }, b: 1 });
    expect(a).toBe('{"a":{"c":"x","d":[3,1]},"b":1}');
    expect(b).toBe(a);
  });

  it('hashes the record without its hash field, so the hash does not depend on itself', () => {
    const rec = { seq: 1, prev: '0'.repeat(64), x: 'y' };
    expect(computeHash({ ...rec, hash: 'whatever' })).toBe(computeHash(rec));
    expect(computeHash({ ...rec, prev: '1'.repeat(64) })).not.toBe(computeHash(rec));
  });
});
