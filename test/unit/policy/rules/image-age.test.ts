import { describe, expect, it } from 'vitest';
import { imageFacts } from '../../../../src/policy/facts.js';
import { buildTime, imageAge } from '../../../../src/policy/rules/image-age.js';

const now = new Date('2026-12-01T12:00:00Z');
const built = (created: unknown) => imageFacts({ created, config: { User: '1000' } });
const rule = (created: unknown, unknown: 'allow' | 'warn' | 'deny' = 'allow') =>
  imageAge(built(created), { maxAgeDays: 365, unknown, now });

describe('image-age', () => {
  it('passes an image built within maxAgeDays, including one built exactly at the limit', () => {
    expect(rule('2026-11-30T00:00:00Z')).toEqual([]);
    expect(rule('2025-12-01T12:00:00Z')).toEqual([]);
  });

  it('finds an image built more than maxAgeDays ago, saying when it was built and how old it is', () => {
    expect(rule('2024-06-01T08:30:00Z')).toEqual([
      {
        rule: 'image-age',
        kind: 'too-old',
        message: 'image-age: built 2024-06-01, 913 days ago; the limit is 365 days',
      },
    ]);
  });

  it('reads RFC 3339 times with an offset and fractional seconds', () => {
    expect(rule('2025-12-01T14:00:00.123456789+02:00')).toEqual([]);
    expect(rule('2025-11-29T23:00:00-05:00')[0]?.kind).toBe('too-old');
  });

  it.each([
    [undefined, 'missing'],
    [null, 'missing'],
    ['', 'missing'],
    ['yesterday', 'unreadable'],
    ['1970-01-01T00:00:00Z', 'epoch'],
    ['0001-01-01T00:00:00Z', 'epoch'],
  ])('treats created %j as an unknown build time (%s), not as old', (created, why) => {
    expect(buildTime(built(created).created)).toMatchObject({ kind: 'unknown', why });
    expect(rule(created, 'allow')).toEqual([]);
  });

  it('with unknown: warn an unknown build time is a warn-only finding; with deny, an ordinary one', () => {
    expect(rule('1970-01-01T00:00:00Z', 'warn')).toEqual([
      expect.objectContaining({ rule: 'image-age', kind: 'unknown-age', warnOnly: true }),
    ]);
    const denied = rule(undefined, 'deny');
    expect(denied).toEqual([expect.objectContaining({ kind: 'unknown-age' })]);
    expect(denied[0]?.warnOnly).toBeUndefined();
    expect(denied[0]?.message).toBe('image-age: build time unknown: the image config has no created time');
  });

  it('an image built after the time of the pull (clock skew) is not too old', () => {
    expect(rule('2027-01-01T00:00:00Z')).toEqual([]);
  });
});
