import type { AuditSink } from '../audit/index.js';
import type { Principal } from '../auth/principal.js';
import type { ChangeFeed } from '../store/change-feed.js';
import type { AlertView } from './alert-view.js';

export interface Review {
  requestId: string;
  alert: AlertView;
  action: 'approve' | 'reject' | 'reopen';
  reviewer: Principal;
  reason: string;
}

/**
 * A review, once the store has it: on the decision log under the name of who made it and how they proved it
 * (issue 12: never a name the client typed), then announced so the other replicas drop what they remember about
 * the tag at once (LISTEN/NOTIFY on PostgreSQL). An announcement that fails is logged: the others catch up
 * within their repeat window.
 */
export async function recordReview(
  deps: { audit: AuditSink; changes: Pick<ChangeFeed, 'publish'>; onError: (err: unknown) => void },
  review: Review,
): Promise<void> {
  await deps.audit.append({
    type: 'review',
    requestId: review.requestId,
    actor: review.reviewer.name.slice(0, 200),
    auth: review.reviewer.via,
    action: review.action,
    alertId: String(review.alert.id),
    upstream: review.alert.upstream,
    repository: review.alert.repository,
    tag: review.alert.tag,
    digest: review.alert.new.digest,
    reason: review.reason.slice(0, 2000),
  });
  const { upstream, repository, tag } = review.alert;
  await deps.changes.publish({ upstream, repository, tag }).catch(deps.onError);
}
