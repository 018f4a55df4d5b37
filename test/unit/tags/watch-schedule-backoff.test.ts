import { describe, expect, it } from 'vitest';
import {
  type Backoff,
  isBackedOff,
  maxRetryAfterMs,
  noBackoff,
  rateLimited,
  recovered,
} from '../../../src/tags/watch-schedule.js';

const minute = 60_000;
const base = {
  nowMs: 1_000_000,
  intervalMs: 10 * minute,
  maxIntervalMs: 80 * minute,
  jitter: 0,
  random: 0.5,
};

describe('backing off a rate-limited upstream', () => {
  it('doubles the interval on each 429 until the cap, and blocks the upstream for that long', () => {
    let b: Backoff = noBackoff;
    const blockedFor: number[] = [];
    for (let i = 0; i < 5; i++) {
      b = rateLimited(b, base);
      blockedFor.push((b.blockedUntilMs - base.nowMs) / minute);
    }
    expect(blockedFor).toEqual([20, 40, 80, 80, 80]);
    expect(b.multiplier).toBe(8);
  });

  it('waits as long as Retry-After asks when that is longer than the doubled interval', () => {
    const b = rateLimited(noBackoff, { ...base, retryAfterMs: 3 * 3600_000 });
    expect(b.blockedUntilMs - base.nowMs).toBe(3 * 3600_000);
    const short = rateLimited(noBackoff, { ...base, retryAfterMs: 30_000 });
    expect(short.blockedUntilMs - base.nowMs).toBe(20 * minute);
    const huge = rateLimited(noBackoff, { ...base, retryAfterMs: 10 * maxRetryAfterMs });
    expect(huge.blockedUntilMs - base.nowMs).toBe(maxRetryAfterMs);
  });

  it('jitters the backoff so replicas do not come back in lockstep', () => {
    const low = rateLimited(noBackoff, { ...base, jitter: 0.25, random: 0 });
    const high = rateLimited(noBackoff, { ...base, jitter: 0.25, random: 0.999999 });
    expect(low.blockedUntilMs - base.nowMs).toBe(15 * minute);
    expect(Math.round((high.blockedUntilMs - base.nowMs) / minute)).toBe(25);
  });

  it('is blocked until the time passes, and halves back towards the plain interval after clean passes', () => {
    const b = rateLimited(rateLimited(noBackoff, base), base);
    expect(isBackedOff(b, b.blockedUntilMs - 1)).toBe(true);
    expect(isBackedOff(b, b.blockedUntilMs)).toBe(false);
    expect(recovered(b).multiplier).toBe(2);
    expect(recovered(recovered(recovered(b))).multiplier).toBe(1);
  });

  it('never blocks for less than the interval when the cap is below it', () => {
    const b = rateLimited(noBackoff, { ...base, maxIntervalMs: minute });
    expect(b.multiplier).toBe(1);
    expect(b.blockedUntilMs - base.nowMs).toBe(10 * minute);
  });
});
