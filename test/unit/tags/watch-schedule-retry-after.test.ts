import { describe, expect, it } from 'vitest';
import { maxRetryAfterMs, parseRetryAfterMs } from '../../../src/tags/watch-schedule.js';

const now = Date.parse('2025-03-01T12:00:00Z');

describe('reading Retry-After (RFC 9110 section 10.2.3)', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfterMs('120', now)).toBe(120_000);
    expect(parseRetryAfterMs(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP-date relative to the clock, never negative', () => {
    expect(parseRetryAfterMs('Sat, 01 Mar 2025 12:05:00 GMT', now)).toBe(300_000);
    expect(parseRetryAfterMs('Sat, 01 Mar 2025 11:00:00 GMT', now)).toBe(0);
  });

  it('caps an absurd value and ignores what is neither form', () => {
    expect(parseRetryAfterMs('99999999999', now)).toBe(maxRetryAfterMs);
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs('-5', now)).toBeUndefined();
    expect(parseRetryAfterMs('1.5', now)).toBeUndefined();
  });
});
