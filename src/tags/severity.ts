import { classifyUser } from '../policy/rules/run-as-root.js';
import type { Severity } from '../store/schema.js';
import type { Change, ImageDiff, PlatformDiff } from './diff.js';

const order: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

/** Pure: the platform's user change turns a non-root user into root (including "no user" = root). */
export function nowRunsAsRoot(user: Change<string | null> | undefined): boolean {
  if (user === undefined) return false;
  return (
    classifyUser(user.from ?? undefined).kind !== 'root' && classifyUser(user.to ?? undefined).kind === 'root'
  );
}

export type SeverityReason = 'refused-by-policy' | 'now-runs-as-root';

/** Pure: why a tag-mutation alert is worse than its rule says, from the diff and the new digest's decision. */
export function severityReasons(diff: unknown, decision: unknown): SeverityReason[] {
  const reasons: SeverityReason[] = [];
  if (
    typeof decision === 'object' &&
    decision !== null &&
    'decision' in decision &&
    decision.decision === 'deny'
  )
    reasons.push('refused-by-policy');
  const platforms =
    typeof diff === 'object' && diff !== null && 'platforms' in diff ? (diff as ImageDiff).platforms : [];
  if (platforms.some((p: PlatformDiff) => nowRunsAsRoot(p.user))) reasons.push('now-runs-as-root');
  return reasons;
}

/**
 * Pure: the rule's severity raised by the reasons — each reason lifts it one step and to at least `high`, since
 * either means the new digest would not be served (or should not be) as it is. Capped at `critical`.
 */
export function raiseSeverity(base: Severity, reasons: readonly SeverityReason[]): Severity {
  let i = order.indexOf(base);
  for (const _ of reasons) i = Math.max(i + 1, order.indexOf('high'));
  return order[Math.min(i, order.length - 1)] ?? base;
}
