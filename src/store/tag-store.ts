import { type Kysely, sql, type Transaction } from 'kysely';
import { enqueueEvent, type OutboxReceiver } from './outbox.js';
import type {
  AlertRow,
  AlertStatus,
  AuthMethod,
  Database,
  IndexChildRow,
  ManifestKind,
  NewAlert,
  ReviewAction,
  ReviewRow,
  Severity,
  TagObservationRow,
  TagStateRow,
} from './schema.js';

/** A tag as pullgate names it: the upstream's host, the repository on that upstream, the tag. */
export interface TagKey {
  upstream: string;
  repository: string;
  tag: string;
}

export interface ObservationInput extends TagKey {
  digest: string;
  mediaType: string;
  kind: ManifestKind;
  at: string;
  /** Resolutions recorded at once (a batch of repeats); default 1. */
  count?: number;
}

export interface ChildInput {
  digest: string;
  mediaType: string;
  platform: string;
}

export interface AlertFilter {
  status?: AlertStatus | undefined;
  upstream?: string | undefined;
  repository?: string | undefined;
  tag?: string | undefined;
  severity?: Severity | undefined;
  /** Only alerts with an id below this one (the previous page's `nextCursor`). */
  before?: number | undefined;
  limit: number;
}

export type ReviewResult =
  | { kind: 'reviewed'; alert: AlertRow; review: ReviewRow }
  | { kind: 'not-found' }
  | { kind: 'already-reviewed'; alert: AlertRow };

export type ReopenResult =
  | { kind: 'reopened'; alert: AlertRow; review: ReviewRow }
  | { kind: 'not-found' }
  | { kind: 'not-reviewed'; alert: AlertRow }
  /** The tag has moved on since the review (a later approval or a later alert): reopening would rewrite it. */
  | { kind: 'superseded'; alert: AlertRow };

/** Who reviews, and whom to tell: the review's event is enqueued in the review's own transaction. */
export interface ReviewContext {
  auth?: AuthMethod;
  receivers?: readonly OutboxReceiver[];
}

type Db = Kysely<Database> | Transaction<Database>;

function whereTag<T extends { where: (c: 'upstream' | 'repository' | 'tag', op: '=', v: string) => T }>(
  q: T,
  key: TagKey,
): T {
  return q
    .where('upstream', '=', key.upstream)
    .where('repository', '=', key.repository)
    .where('tag', '=', key.tag);
}

/** Tag history, approvals, alerts and reviews: every query pullgate runs against those tables. */
export interface WatchedTag extends TagKey {
  /** The latest time any digest of this tag was seen (by a client or by the watcher). */
  lastSeen: string;
}

export class TagStore {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * The tracked tags, least recently seen first: the ones nobody pulls are the ones only the watcher will check.
   */
  async watchedTags(
    options: { limit?: number | undefined; seenBefore?: string | undefined } = {},
  ): Promise<WatchedTag[]> {
    const rows = await this.db
      .selectFrom('tag_observations')
      .select((eb) => ['upstream', 'repository', 'tag', eb.fn.max<string>('last_seen').as('last_seen')])
      .groupBy(['upstream', 'repository', 'tag'])
      .$if(options.seenBefore !== undefined, (q) =>
        q.having((eb) => eb.fn.max('last_seen'), '<', options.seenBefore ?? ''),
      )
      .orderBy('last_seen', 'asc')
      .orderBy('upstream', 'asc')
      .orderBy('repository', 'asc')
      .orderBy('tag', 'asc')
      .$if(options.limit !== undefined, (q) => q.limit(options.limit ?? 0))
      .execute();
    return rows.map((r) => ({
      upstream: r.upstream,
      repository: r.repository,
      tag: r.tag,
      lastSeen: r.last_seen,
    }));
  }

  /** Records resolutions (`count`, default one): a new row on first sight of the digest, else last_seen and count move on. */
  async recordObservation(o: ObservationInput): Promise<TagObservationRow> {
    return this.db
      .insertInto('tag_observations')
      .values({
        upstream: o.upstream,
        repository: o.repository,
        tag: o.tag,
        digest: o.digest,
        media_type: o.mediaType,
        kind: o.kind,
        first_seen: o.at,
        last_seen: o.at,
        count: o.count ?? 1,
      })
      .onConflict((oc) =>
        oc.columns(['upstream', 'repository', 'tag', 'digest']).doUpdateSet({
          last_seen: sql<string>`case when tag_observations.last_seen < excluded.last_seen then excluded.last_seen else tag_observations.last_seen end`,
          count: sql<number>`tag_observations.count + excluded.count`,
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async observations(key: TagKey): Promise<TagObservationRow[]> {
    return whereTag(this.db.selectFrom('tag_observations').selectAll(), key)
      .orderBy('first_seen', 'asc')
      .orderBy('digest', 'asc')
      .execute();
  }

  async observation(key: TagKey, digest: string): Promise<TagObservationRow | undefined> {
    return whereTag(this.db.selectFrom('tag_observations').selectAll(), key)
      .where('digest', '=', digest)
      .executeTakeFirst();
  }

  async states(key: TagKey): Promise<TagStateRow[]> {
    return whereTag(this.db.selectFrom('tag_state').selectAll(), key).orderBy('kind').execute();
  }

  /**
   * Trust on first use: the first digest seen for a tag (of this kind) is the approved one. Returns the state
   * that won, which is another replica's when it got there first.
   */
  async initState(
    key: TagKey,
    kind: ManifestKind,
    digest: string,
    mediaType: string,
    at: string,
  ): Promise<TagStateRow> {
    await this.db
      .insertInto('tag_state')
      .values({
        ...key,
        kind,
        approved_digest: digest,
        approved_media_type: mediaType,
        approved_at: at,
        generation: 0,
        pinned: 0,
        updated_at: at,
      })
      .onConflict((oc) => oc.columns(['upstream', 'repository', 'tag', 'kind']).doNothing())
      .execute();
    return whereTag(this.db.selectFrom('tag_state').selectAll(), key)
      .where('kind', '=', kind)
      .executeTakeFirstOrThrow();
  }

  async setPinned(key: TagKey, kind: ManifestKind, pinned: boolean, at: string): Promise<void> {
    await whereTag(this.db.updateTable('tag_state').set({ pinned: pinned ? 1 : 0, updated_at: at }), key)
      .where('kind', '=', kind)
      .execute();
  }

  async recordChildren(indexDigest: string, children: readonly ChildInput[]): Promise<void> {
    if (children.length === 0) return;
    await this.db
      .insertInto('index_children')
      .values(
        children.map((c) => ({
          index_digest: indexDigest,
          child_digest: c.digest,
          media_type: c.mediaType,
          platform: c.platform,
        })),
      )
      .onConflict((oc) => oc.columns(['index_digest', 'child_digest']).doNothing())
      .execute();
  }

  async children(indexDigest: string): Promise<IndexChildRow[]> {
    return this.db
      .selectFrom('index_children')
      .selectAll()
      .where('index_digest', '=', indexDigest)
      .orderBy('platform')
      .execute();
  }

  async findAlert(
    key: TagKey,
    kind: ManifestKind,
    generation: number,
    newDigest: string,
  ): Promise<AlertRow | undefined> {
    return whereTag(this.db.selectFrom('alerts').selectAll(), key)
      .where('kind', '=', kind)
      .where('generation', '=', generation)
      .where('new_digest', '=', newDigest)
      .executeTakeFirst();
  }

  /**
   * Opens an alert unless this mutation already has one (the unique constraint decides, so concurrent replicas
   * cannot both win). The winner also enqueues the notifications, in the same transaction.
   */
  async openAlert(
    alert: NewAlert,
    receivers: readonly OutboxReceiver[],
  ): Promise<{ alert: AlertRow; created: boolean }> {
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('alerts')
        .values(alert)
        .onConflict((oc) => oc.doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted !== undefined) {
        await enqueueEvent(trx, receivers, 'alert.opened', inserted.id, alert.created_at);
        return { alert: inserted, created: true };
      }
      const existing = await whereTag(trx.selectFrom('alerts').selectAll(), alert)
        .where('kind', '=', alert.kind)
        .where('generation', '=', alert.generation)
        .where('new_digest', '=', alert.new_digest)
        .executeTakeFirstOrThrow();
      return { alert: existing, created: false };
    });
  }

  async alert(id: number): Promise<AlertRow | undefined> {
    return this.db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listAlerts(filter: AlertFilter): Promise<AlertRow[]> {
    let q = this.db.selectFrom('alerts').selectAll();
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (filter.upstream !== undefined) q = q.where('upstream', '=', filter.upstream);
    if (filter.repository !== undefined) q = q.where('repository', '=', filter.repository);
    if (filter.tag !== undefined) q = q.where('tag', '=', filter.tag);
    if (filter.severity !== undefined) q = q.where('severity', '=', filter.severity);
    if (filter.before !== undefined) q = q.where('id', '<', filter.before);
    return q.orderBy('id', 'desc').limit(filter.limit).execute();
  }

  /**
   * The latest rejected alert of this repository whose new digest is `digest`, or an index that has `digest` as a
   * platform manifest (require-digest's `refuseRejected`).
   */
  async rejectedAlert(upstream: string, repository: string, digest: string): Promise<AlertRow | undefined> {
    return this.db
      .selectFrom('alerts')
      .selectAll()
      .where('upstream', '=', upstream)
      .where('repository', '=', repository)
      .where('status', '=', 'rejected')
      .where((eb) =>
        eb.or([
          eb('new_digest', '=', digest),
          eb(
            'new_digest',
            'in',
            eb.selectFrom('index_children').select('index_digest').where('child_digest', '=', digest),
          ),
        ]),
      )
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** The console's queue: open alerts first, then newest first; `offset` pages. */
  async queue(filter: Omit<AlertFilter, 'before'> & { offset: number }): Promise<AlertRow[]> {
    let q = this.db.selectFrom('alerts').selectAll();
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (filter.upstream !== undefined) q = q.where('upstream', '=', filter.upstream);
    if (filter.repository !== undefined) q = q.where('repository', '=', filter.repository);
    if (filter.tag !== undefined) q = q.where('tag', '=', filter.tag);
    if (filter.severity !== undefined) q = q.where('severity', '=', filter.severity);
    return q
      .orderBy(sql`case when status = 'open' then 0 else 1 end`)
      .orderBy('id', 'desc')
      .limit(filter.limit)
      .offset(filter.offset)
      .execute();
  }

  /** How many alerts there are by status (for the queue's counts), under the same filters but status. */
  async countByStatus(
    filter: Pick<AlertFilter, 'upstream' | 'repository' | 'tag' | 'severity'>,
  ): Promise<Record<AlertStatus, number>> {
    let q = this.db
      .selectFrom('alerts')
      .select(['status', (eb) => eb.fn.countAll<number | string | bigint>().as('n')])
      .groupBy('status');
    if (filter.upstream !== undefined) q = q.where('upstream', '=', filter.upstream);
    if (filter.repository !== undefined) q = q.where('repository', '=', filter.repository);
    if (filter.tag !== undefined) q = q.where('tag', '=', filter.tag);
    if (filter.severity !== undefined) q = q.where('severity', '=', filter.severity);
    const counts: Record<AlertStatus, number> = { open: 0, approved: 0, rejected: 0 };
    for (const r of await q.execute()) counts[r.status] = Number(r.n);
    return counts;
  }

  /** Upstreams and repositories that have alerts (the queue's filter choices). */
  async alertPlaces(): Promise<{ upstream: string; repository: string }[]> {
    return this.db
      .selectFrom('alerts')
      .select(['upstream', 'repository'])
      .distinct()
      .orderBy('upstream')
      .orderBy('repository')
      .limit(500)
      .execute();
  }

  /** Open alerts per severity (for /metrics). */
  async openAlertCounts(): Promise<Partial<Record<Severity, number>>> {
    const rows = await this.db
      .selectFrom('alerts')
      .select((eb) => ['severity', eb.fn.countAll<string | number>().as('n')])
      .where('status', '=', 'open')
      .groupBy('severity')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.severity, Number(r.n)]));
  }

  async alertsForTag(key: TagKey): Promise<AlertRow[]> {
    return whereTag(this.db.selectFrom('alerts').selectAll(), key).orderBy('id', 'asc').execute();
  }

  async reviews(alertId: number): Promise<ReviewRow[]> {
    return this.db
      .selectFrom('reviews')
      .selectAll()
      .where('alert_id', '=', alertId)
      .orderBy('id', 'asc')
      .execute();
  }

  /**
   * Reviews an open alert. Approve: the new digest becomes the approved one (a new generation) and the pin is
   * lifted. Reject: the approved digest stays and the tag is pinned to it. The conditional UPDATE makes the
   * first reviewer win when two review at once.
   */
  async review(
    id: number,
    action: ReviewAction,
    reviewer: string,
    reason: string,
    at: string,
    context: ReviewContext = {},
  ): Promise<ReviewResult> {
    if (action === 'reopen') throw new Error('use reopen() to reopen an alert');
    return this.db.transaction().execute(async (trx) => {
      const status: AlertStatus = action === 'approve' ? 'approved' : 'rejected';
      const updated = await trx
        .updateTable('alerts')
        .set({ status, updated_at: at })
        .where('id', '=', id)
        .where('status', '=', 'open')
        .returningAll()
        .executeTakeFirst();
      if (updated === undefined) {
        const existing = await trx.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
        return existing === undefined ? { kind: 'not-found' } : { kind: 'already-reviewed', alert: existing };
      }
      const review = await trx
        .insertInto('reviews')
        .values({
          alert_id: id,
          action,
          reviewer,
          reason,
          created_at: at,
          auth: context.auth ?? 'typed-name',
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await enqueueEvent(trx, context.receivers ?? [], `alert.${status}`, id, at);
      if (action === 'approve') {
        await upsertApproval(
          trx,
          updated,
          updated.kind,
          updated.new_digest,
          updated.new_media_type,
          updated.generation + 1,
          at,
        );
      } else await this.pinFor(trx, updated, at);
      return { kind: 'reviewed', alert: updated, review };
    });
  }

  /**
   * Reopens a reviewed alert, undoing what its review did to the tag: a reject's pin is set back to what the
   * alert's action implies before review; an approval is undone (the old digest is the approved one again) only
   * while nothing has happened to the tag since, else `superseded`.
   */
  async reopen(id: number, reviewer: string, reason: string, at: string, context: ReviewContext = {}) {
    return this.db.transaction().execute(async (trx): Promise<ReopenResult> => {
      const alert = await trx.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
      if (alert === undefined) return { kind: 'not-found' };
      if (alert.status === 'open') return { kind: 'not-reviewed', alert };
      const later = await whereTag(trx.selectFrom('alerts').select('id'), alert)
        .where('kind', '=', alert.kind)
        .where('generation', '>', alert.generation)
        .executeTakeFirst();
      const state = await whereTag(trx.selectFrom('tag_state').selectAll(), alert)
        .where('kind', '=', alert.kind)
        .executeTakeFirst();
      if (state === undefined || later !== undefined) return { kind: 'superseded', alert };
      if (alert.status === 'approved') {
        if (state.approved_digest !== alert.new_digest || state.generation !== alert.generation + 1)
          return { kind: 'superseded', alert };
      } else if (state.approved_digest !== alert.old_digest || state.generation !== alert.generation) {
        return { kind: 'superseded', alert };
      }
      const updated = await trx
        .updateTable('alerts')
        .set({ status: 'open', updated_at: at })
        .where('id', '=', id)
        .where('status', '=', alert.status)
        .returningAll()
        .executeTakeFirst();
      if (updated === undefined) return { kind: 'superseded', alert };
      await whereTag(
        trx.updateTable('tag_state').set({
          approved_digest: alert.old_digest,
          approved_media_type: alert.old_media_type,
          generation: alert.generation,
          // As before any review: a pin-action tag stays pinned to the old digest, the others are decided again
          // on the next resolution (deny refuses, alert serves the new digest).
          pinned: alert.action === 'pin' ? 1 : 0,
          updated_at: at,
        }),
        alert,
      )
        .where('kind', '=', alert.kind)
        .execute();
      const review = await trx
        .insertInto('reviews')
        .values({
          alert_id: id,
          action: 'reopen',
          reviewer,
          reason,
          created_at: at,
          auth: context.auth ?? 'typed-name',
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await enqueueEvent(trx, context.receivers ?? [], 'alert.reopened', id, at);
      return { kind: 'reopened', alert: updated, review };
    });
  }

  /** Accepts a move without review (the `record` action): the history keeps it, no alert is raised. */
  async recordApproval(
    key: TagKey,
    kind: ManifestKind,
    digest: string,
    mediaType: string,
    at: string,
  ): Promise<void> {
    await upsertApproval(this.db, key, kind, digest, mediaType, 0, at);
  }

  private async pinFor(trx: Db, alert: AlertRow, at: string): Promise<void> {
    await whereTag(trx.updateTable('tag_state').set({ pinned: 1, updated_at: at }), alert)
      .where('kind', '=', alert.kind)
      .execute();
  }
}

/** The digest becomes the approved one for this tag and kind: a new generation, and no pin. */
async function upsertApproval(
  db: Db,
  key: TagKey,
  kind: ManifestKind,
  digest: string,
  mediaType: string,
  firstGeneration: number,
  at: string,
): Promise<void> {
  await db
    .insertInto('tag_state')
    .values({
      upstream: key.upstream,
      repository: key.repository,
      tag: key.tag,
      kind,
      approved_digest: digest,
      approved_media_type: mediaType,
      approved_at: at,
      generation: firstGeneration,
      pinned: 0,
      updated_at: at,
    })
    .onConflict((oc) =>
      oc.columns(['upstream', 'repository', 'tag', 'kind']).doUpdateSet({
        approved_digest: digest,
        approved_media_type: mediaType,
        approved_at: at,
        generation: sql<number>`tag_state.generation + 1`,
        pinned: 0,
        updated_at: at,
      }),
    )
    .execute();
}
