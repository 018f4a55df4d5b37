import { describe, expect, it } from 'vitest';
import { FullCollectionRule } from '../../../src/cli/young-gc.js';

const MiB = 1024 * 1024;

describe('when a full collection is due while streaming', () => {
  it('is due once external memory has grown past the limit above where it started', () => {
    const rule = new FullCollectionRule(16 * MiB, 4 * MiB);
    expect(rule.due(20 * MiB)).toBe(false);
    expect(rule.due(21 * MiB)).toBe(true);
  });

  it('is not due again while memory stays at the level the last collection left, however high', () => {
    const rule = new FullCollectionRule(16 * MiB, 4 * MiB);
    expect(rule.due(30 * MiB)).toBe(true);
    rule.collected(28 * MiB); // most of it was live
    for (let i = 0; i < 10; i++) expect(rule.due(29 * MiB)).toBe(false);
  });

  it('measures growth from the lowest level seen since, when memory fell without a full collection', () => {
    const rule = new FullCollectionRule(16 * MiB, 12 * MiB);
    expect(rule.due(2 * MiB)).toBe(false); // scavenges freed it
    expect(rule.due(19 * MiB)).toBe(true); // 17 MiB above 2, though only 7 above the start
  });
});
