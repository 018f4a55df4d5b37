import type { RuleId } from './finding.js';
import type { LoadedPolicy, PolicyException } from './schema.js';
import { globMatches } from './scope.js';

/** An exception as recorded with a decision: enough to find it in its file and to know who to ask. */
export interface ExceptionRef {
  policy: string;
  /** Index in the policy's `exceptions` list. */
  index: number;
  rules: RuleId[];
  reason: string;
  owner: string;
  expires: string;
}

export interface ExceptionTarget {
  repository: string;
  /** The manifest asked for (an index or an image manifest). */
  digest: string;
  /** For a platform of an index: the platform's image manifest digest. */
  platformDigest?: string | undefined;
}

/**
 * When an exception stops applying. A date alone (`2026-12-31`) means the start of that day in UTC: the
 * exception is not in force on the day it names, so "expires: <date>" reads the same to every reviewer.
 */
export function exceptionExpiresAt(exception: PolicyException): Date {
  return new Date(
    /^\d{4}-\d{2}-\d{2}$/.test(exception.expires) ? `${exception.expires}T00:00:00Z` : exception.expires,
  );
}

export function isExpired(exception: PolicyException, now: Date): boolean {
  return now.getTime() >= exceptionExpiresAt(exception).getTime();
}

/** Every dimension the exception names must match: repository globs, and digests (index or platform). */
export function exceptionMatches(exception: PolicyException, target: ExceptionTarget): boolean {
  if (exception.repositories !== undefined && !globMatches(exception.repositories, target.repository)) {
    return false;
  }
  if (exception.digests !== undefined) {
    const digests = exception.digests;
    if (
      !digests.includes(target.digest) &&
      !(target.platformDigest !== undefined && digests.includes(target.platformDigest))
    ) {
      return false;
    }
  }
  return true;
}

export interface CandidateException {
  ref: ExceptionRef;
  exception: PolicyException;
}

/** Exceptions of the given (in-scope) policies that match the target, in policy then file order. */
export function candidateExceptions(
  policies: readonly LoadedPolicy[],
  target: ExceptionTarget,
): CandidateException[] {
  const out: CandidateException[] = [];
  for (const policy of policies) {
    policy.exceptions.forEach((exception, index) => {
      if (!exceptionMatches(exception, target)) return;
      out.push({
        exception,
        ref: {
          policy: policy.name,
          index,
          rules: [...exception.rules],
          reason: exception.reason,
          owner: exception.owner,
          expires: exception.expires,
        },
      });
    });
  }
  return out;
}

/** The earliest future expiry among the exceptions, so a cached decision never outlives one. */
export function nextExpiry(candidates: readonly CandidateException[], now: Date): Date | undefined {
  let next: Date | undefined;
  for (const c of candidates) {
    const at = exceptionExpiresAt(c.exception);
    if (at.getTime() > now.getTime() && (next === undefined || at < next)) next = at;
  }
  return next;
}
