import { describe, expect, it } from 'vitest';
import { firstPassDelayMs, jitteredDelayMs } from '../../../src/tags/watch-schedule.js';

describe('the watch interval with jitter', () => {
  it('spreads the interval uniformly over [1 - jitter, 1 + jitter] times itself', () => {
    expect(jitteredDelayMs(60_000, 0.2, 0)).toBe(48_000);
    expect(jitteredDelayMs(60_000, 0.2, 0.5)).toBe(60_000);
    expect(jitteredDelayMs(60_000, 0.2, 0.999999)).toBe(72_000);
    expect(jitteredDelayMs(60_000, 0, 0.9)).toBe(60_000);
  });

  it('keeps a jitter outside [0, 1] from producing a negative or runaway delay', () => {
    expect(jitteredDelayMs(10_000, 5, 0)).toBe(0);
    expect(jitteredDelayMs(10_000, 5, 1)).toBe(20_000);
    expect(jitteredDelayMs(10_000, -1, 0)).toBe(10_000);
  });

  it('runs the first pass at a random point within one interval', () => {
    expect(firstPassDelayMs(3_600_000, 0)).toBe(0);
    expect(firstPassDelayMs(3_600_000, 0.25)).toBe(900_000);
    expect(firstPassDelayMs(3_600_000, 0.75)).toBe(2_700_000);
  });
});
