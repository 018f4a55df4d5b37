import { describe, expect, it } from 'vitest';
import { requireDigest } from '../../../../src/policy/rules/require-digest.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const on = { refuseRejected: false, failClosed: true };

describe('require-digest', () => {
  it('a pull by tag names the digest to pull instead', () => {
    expect(requireDigest({ kind: 'tag', name: 'library/nginx', tag: '1.25.3', served: A }, on)).toEqual([
      {
        rule: 'require-digest',
        kind: 'pulled-by-tag',
        message: `require-digest: pull library/nginx@${A} instead of :1.25.3`,
      },
    ]);
  });

  it('names who approved the digest and when, from the tag history', () => {
    const [f] = requireDigest(
      {
        kind: 'tag',
        name: 'library/nginx',
        tag: '1.25.3',
        served: A,
        approval: { at: '2026-11-30T09:12:00.000Z', by: 'alice' },
      },
      on,
    );
    expect(f?.message).toBe(
      `require-digest: pull library/nginx@${A} instead of :1.25.3 (approved 2026-11-30 by alice)`,
    );
  });

  it('for a pinned tag names the approved digest and the one waiting for review upstream', () => {
    const [f] = requireDigest(
      {
        kind: 'tag',
        name: 'library/nginx',
        tag: '1.25.3',
        served: A,
        approval: { at: '2026-11-30T09:12:00.000Z' },
        pendingUpstream: B,
      },
      on,
    );
    expect(f?.message).toBe(
      `require-digest: pull library/nginx@${A} instead of :1.25.3 (approved 2026-11-30); the tag is pinned: upstream it now points to ${B}, not approved`,
    );
  });

  it('a pull by digest passes', () => {
    expect(requireDigest({ kind: 'digest', name: 'library/nginx', digest: A }, on)).toEqual([]);
  });

  it('a digest rejected in review is refused by digest only with refuseRejected', () => {
    const facts = {
      kind: 'digest' as const,
      name: 'library/nginx',
      digest: B,
      rejected: { tag: '1.25.3', at: '2026-11-30T10:00:00Z', by: 'bob', approved: A },
    };
    expect(requireDigest(facts, on)).toEqual([]);
    expect(requireDigest(facts, { ...on, refuseRejected: true })).toEqual([
      {
        rule: 'require-digest',
        kind: 'rejected-digest',
        message: `require-digest: ${B} was rejected in review for :1.25.3 (2026-11-30 by bob); pull library/nginx@${A} instead`,
      },
    ]);
  });

  it('a rejection lookup that failed is "not checked": refusing when fail-closed, warn-only otherwise', () => {
    const facts = {
      kind: 'digest' as const,
      name: 'x/y',
      digest: A,
      lookupFailed: 'the tag history could not be read',
    };
    const closed = requireDigest(facts, { refuseRejected: true, failClosed: true });
    expect(closed).toEqual([expect.objectContaining({ kind: 'not-checked' })]);
    expect(closed[0]?.warnOnly).toBeUndefined();
    expect(requireDigest(facts, { refuseRejected: true, failClosed: false })[0]?.warnOnly).toBe(true);
  });
});
