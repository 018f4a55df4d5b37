import type {
  AlertRow,
  AlertStatus,
  AuthMethod,
  ReviewAction,
  ReviewRow,
  Severity,
} from '../store/schema.js';
import type { ImageDiff } from './diff.js';

export interface DigestSighting {
  digest: string;
  mediaType: string;
  firstSeen: string | null;
  lastSeen: string | null;
}

export interface ReviewView {
  action: ReviewAction;
  /** The authenticated name (`break-glass` for the shared admin token). */
  reviewer: string;
  /** How the reviewer was authenticated. */
  auth: AuthMethod;
  reason: string;
  at: string;
}

/** An alert as the admin API, the CLI and webhooks show it. */
export interface AlertView {
  id: number;
  /** The upstream's key (`docker.io` for the default upstream): what filters and policies name. */
  upstream: string;
  /** The registry as people know it: the default upstream by its own host unless it is Docker Hub. */
  registry: string;
  repository: string;
  tag: string;
  kind: 'index' | 'manifest';
  status: AlertStatus;
  severity: Severity;
  action: string;
  old: DigestSighting;
  new: DigestSighting;
  diff: ImageDiff | { error: string } | null;
  decision: unknown;
  createdAt: string;
  updatedAt: string;
  reviews?: ReviewView[];
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The name an upstream key is shown by; identity unless the app knows better. */
export type UpstreamNamer = (upstream: string) => string;

export function toAlertView(
  row: AlertRow,
  reviews?: readonly ReviewRow[],
  nameOf: UpstreamNamer = (u) => u,
): AlertView {
  const view: AlertView = {
    id: row.id,
    upstream: row.upstream,
    registry: nameOf(row.upstream),
    repository: row.repository,
    tag: row.tag,
    kind: row.kind,
    status: row.status,
    severity: row.severity,
    action: row.action,
    old: {
      digest: row.old_digest,
      mediaType: row.old_media_type,
      firstSeen: row.old_first_seen,
      lastSeen: row.old_last_seen,
    },
    new: {
      digest: row.new_digest,
      mediaType: row.new_media_type,
      firstSeen: row.new_first_seen,
      lastSeen: row.new_last_seen,
    },
    diff: parseJson(row.diff) as AlertView['diff'],
    decision: parseJson(row.decision),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (reviews !== undefined) {
    view.reviews = reviews.map((r) => ({
      action: r.action,
      reviewer: r.reviewer,
      auth: r.auth,
      reason: r.reason,
      at: r.created_at,
    }));
  }
  return view;
}
