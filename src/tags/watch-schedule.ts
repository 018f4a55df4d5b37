/**
 * When the tag watcher runs and how it backs off an upstream that rate-limits it. Pure: the clock and the random
 * source are arguments, so every schedule is reproducible in a test.
 */

/** Per-upstream backoff: the interval multiplier and the time (ms since epoch) before which it is left alone. */
export interface Backoff {
  multiplier: number;
  blockedUntilMs: number;
}

export const noBackoff: Backoff = { multiplier: 1, blockedUntilMs: 0 };

/** A Retry-After longer than this is treated as this (a broken upstream must not silence the watcher for years). */
export const maxRetryAfterMs = 24 * 3600 * 1000;

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

/**
 * `baseMs` spread uniformly over `[1 - jitter, 1 + jitter]` times itself, so replicas started together do not
 * hit an upstream in lockstep. `random` is one draw from `[0, 1)`.
 */
export function jitteredDelayMs(baseMs: number, jitter: number, random: number): number {
  const j = clamp(jitter, 0, 1);
  return Math.max(0, Math.round(baseMs * (1 - j + 2 * j * clamp(random, 0, 1))));
}

/**
 * The first pass after start: a random point within one interval, so a fleet restarted at once spreads out and
 * a process restarted more often than the interval still checks sometimes.
 */
export function firstPassDelayMs(intervalMs: number, random: number): number {
  return Math.round(intervalMs * clamp(random, 0, 1));
}

/** Retry-After is delay-seconds or an HTTP-date (RFC 9110 section 10.2.3); anything else is ignored. */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, maxRetryAfterMs);
  // An HTTP-date names a weekday and GMT; a bare number or other text must not be read as a date.
  if (!/GMT$/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return clamp(at - nowMs, 0, maxRetryAfterMs);
}

export interface RateLimitInput {
  nowMs: number;
  intervalMs: number;
  /** The longest interval backoff may reach (the cap on doubling). */
  maxIntervalMs: number;
  /** From the upstream's Retry-After, when it sent one. */
  retryAfterMs?: number | undefined;
  jitter: number;
  random: number;
}

/**
 * An upstream answered 429: its interval doubles (up to the cap) and it is left alone for that long, or for as
 * long as its Retry-After asks when that is longer.
 */
export function rateLimited(previous: Backoff, input: RateLimitInput): Backoff {
  const maxMultiplier = Math.max(1, input.maxIntervalMs / Math.max(1, input.intervalMs));
  const multiplier = Math.min(previous.multiplier * 2, maxMultiplier);
  const backoffMs = jitteredDelayMs(input.intervalMs * multiplier, input.jitter, input.random);
  const waitMs = Math.max(backoffMs, Math.min(input.retryAfterMs ?? 0, maxRetryAfterMs));
  return { multiplier, blockedUntilMs: input.nowMs + waitMs };
}

/** A pass over an upstream went through without a 429: the multiplier halves back towards one. */
export function recovered(previous: Backoff): Backoff {
  return { multiplier: Math.max(1, previous.multiplier / 2), blockedUntilMs: previous.blockedUntilMs };
}

export function isBackedOff(backoff: Backoff, nowMs: number): boolean {
  return nowMs < backoff.blockedUntilMs;
}
