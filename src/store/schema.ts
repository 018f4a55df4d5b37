import type { Generated, Insertable, Selectable } from 'kysely';

/**
 * The tables of pullgate's store. Timestamps are ISO-8601 UTC strings (`Date.prototype.toISOString`): they sort
 * as text on both SQLite and PostgreSQL, so one query serves both. Booleans are 0/1 integers for the same reason.
 */
export interface Database {
  settings: SettingsTable;
  tag_observations: TagObservationsTable;
  tag_state: TagStateTable;
  index_children: IndexChildrenTable;
  alerts: AlertsTable;
  reviews: ReviewsTable;
  outbox: OutboxTable;
  config_allowances: ConfigAllowancesTable;
  api_tokens: ApiTokensTable;
  sessions: SessionsTable;
  warned_images: WarnedImagesTable;
  decision_index: DecisionIndexTable;
}

/** One decision-log record of one replica (see migration 0003_decision_index). */
export interface DecisionIndexTable {
  replica: string;
  /** bigint on PostgreSQL, which pg returns as a string. */
  seq: number | string;
  time: string;
  type: string;
  repository: string | null;
  decision: string | null;
  client_address: string | null;
  client_user: string | null;
  /** ` sha256:a sha256:b `: the digest, the index digest and the platform manifests judged. */
  digests: string | null;
  /** ` rule-a rule-b `: the rules with findings (or an exception's rule). */
  rules: string | null;
  /** The record's JSON. */
  record: string;
}

/** One image config the policy gate allowed for one client under one policy version. */
export interface ConfigAllowancesTable {
  upstream: string;
  repository: string;
  digest: string;
  policy_version: string;
  /** The authenticated user (`user:<name>`) or, for anonymous pulls, the address (`address:<ip>`). */
  client: string;
  allowed_at: string;
}

export interface SettingsTable {
  key: string;
  value: string;
}

/** Manifest kind: an index (or Docker manifest list) is only ever compared with another index. */
export type ManifestKind = 'index' | 'manifest';

export interface TagObservationsTable {
  upstream: string;
  repository: string;
  tag: string;
  digest: string;
  media_type: string;
  kind: ManifestKind;
  first_seen: string;
  last_seen: string;
  count: number;
}

export interface TagStateTable {
  upstream: string;
  repository: string;
  tag: string;
  kind: ManifestKind;
  approved_digest: string;
  approved_media_type: string;
  approved_at: string;
  /** Bumped by every approval, so a tag that returns to an old digest later is a new mutation. */
  generation: number;
  pinned: number;
  updated_at: string;
}

export interface IndexChildrenTable {
  index_digest: string;
  child_digest: string;
  media_type: string;
  platform: string;
}

export type AlertStatus = 'open' | 'approved' | 'rejected';
export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

export interface AlertsTable {
  id: Generated<number>;
  upstream: string;
  repository: string;
  tag: string;
  kind: ManifestKind;
  generation: number;
  old_digest: string;
  new_digest: string;
  old_media_type: string;
  new_media_type: string;
  old_first_seen: string | null;
  old_last_seen: string | null;
  new_first_seen: string | null;
  new_last_seen: string | null;
  /** JSON of an ImageDiff (src/tags/diff.ts). */
  diff: string;
  /** JSON of the policy decision for the new digest, when one was available. */
  decision: string | null;
  action: string;
  severity: Severity;
  status: AlertStatus;
  created_at: string;
  updated_at: string;
}

export type ReviewAction = 'approve' | 'reject' | 'reopen';

/** How a reviewer proved who they are (src/auth/principal.ts); `typed-name` only on reviews from before 0002. */
export type AuthMethod = 'password' | 'token' | 'admin-token' | 'typed-name';

export interface ReviewsTable {
  id: Generated<number>;
  alert_id: number;
  action: ReviewAction;
  reviewer: string;
  reason: string;
  created_at: string;
  auth: Generated<AuthMethod>;
}

export type OutboxFormat = 'json' | 'slack';

export interface OutboxTable {
  id: Generated<number>;
  /** `receiverId(url)`: the URL itself may be a credential (Slack) and is never stored. */
  receiver: string;
  format: OutboxFormat;
  event: string;
  /** The alert an `alert.*` event is about; null for events that carry their own `payload`. */
  alert_id: number | null;
  created_at: string;
  attempts: number;
  next_attempt_at: string;
  claimed_until: string | null;
  claim_token: string | null;
  delivered_at: string | null;
  last_error: string | null;
  /** JSON body of an event that is not about an alert (`log.checkpoint`); null for alert events. */
  payload: string | null;
}

export type Role = 'viewer' | 'reviewer' | 'admin';

export interface ApiTokensTable {
  id: Generated<number>;
  /** Who acts with the token: a user's name, or an automation's (`ci-bot`). */
  name: string;
  role: Role;
  /** sha256 hex of the token; the token is shown once, when it is created. */
  token_hash: string;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface SessionsTable {
  /** sha256 hex of the session cookie's value. */
  id_hash: string;
  user_name: string;
  created_at: string;
  last_seen_at: string;
}

export type ApiTokenRow = Selectable<ApiTokensTable>;
export type SessionRow = Selectable<SessionsTable>;

/** An image served with warnings (audit-mode findings), once per policy version (migration 0005). */
export interface WarnedImagesTable {
  id: Generated<number>;
  upstream: string;
  repository: string;
  /** The reference (tag or digest) of the first warned pull. */
  reference: string;
  digest: string;
  policy_version: string;
  /** JSON `[{rule, key?}]`: rule ids and variable names, never values. */
  findings: string;
  first_seen: string;
}

export type TagObservationRow = Selectable<TagObservationsTable>;
export type TagStateRow = Selectable<TagStateTable>;
export type IndexChildRow = Selectable<IndexChildrenTable>;
export type AlertRow = Selectable<AlertsTable>;
export type NewAlert = Insertable<AlertsTable>;
export type ReviewRow = Selectable<ReviewsTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type WarnedImageRow = Selectable<WarnedImagesTable>;
