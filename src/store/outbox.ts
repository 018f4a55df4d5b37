import { createHash, randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database, OutboxFormat, OutboxRow, WarnedImageRow } from './schema.js';

export interface OutboxReceiver {
  url: string;
  format: OutboxFormat;
}

export type Db = Kysely<Database> | Transaction<Database>;

/**
 * The outbox names a receiver by a hash of its URL, never the URL itself: a Slack webhook URL is a credential and
 * must not be written to the database. The delivery loop maps the id back to the configured receiver.
 */
export function receiverId(url: string): string {
  return `r-${createHash('sha256').update(url).digest('hex').slice(0, 24)}`;
}

/** A new outbox row for one receiver: due now, never tried, unclaimed. */
function pendingRow(
  r: OutboxReceiver,
  event: string,
  at: string,
  about: { alertId: number | null; payload: string | null },
) {
  return {
    receiver: receiverId(r.url),
    format: r.format,
    event,
    alert_id: about.alertId,
    created_at: at,
    attempts: 0,
    next_attempt_at: at,
    claimed_until: null,
    claim_token: null,
    delivered_at: null,
    last_error: null,
    payload: about.payload,
  };
}

/** Enqueues one event for every receiver; a second enqueue of the same event for a receiver is ignored. */
export async function enqueueEvent(
  db: Db,
  receivers: readonly OutboxReceiver[],
  event: string,
  alertId: number,
  at: string,
): Promise<void> {
  if (receivers.length === 0) return;
  await db
    .insertInto('outbox')
    .values(receivers.map((r) => pendingRow(r, event, at, { alertId, payload: null })))
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export interface WarnedImageInput {
  upstream: string;
  repository: string;
  reference: string;
  digest: string;
  policyVersion: string;
  findings: readonly { rule: string; key?: string | undefined }[];
  at: string;
}

/**
 * Records an image served with warnings. The first time it is seen under this policy version (by any replica),
 * `onNew` runs in the same transaction (to enqueue its `image.warned` event), so the notice is sent exactly once.
 * True when it was new.
 */
export async function recordWarnedImage(
  db: Kysely<Database>,
  image: WarnedImageInput,
  onNew: (trx: Db, row: WarnedImageRow) => Promise<void>,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('warned_images')
      .values({
        upstream: image.upstream,
        repository: image.repository,
        reference: image.reference,
        digest: image.digest,
        policy_version: image.policyVersion,
        findings: JSON.stringify(image.findings.map((f) => (f.key === undefined ? { rule: f.rule } : f))),
        first_seen: image.at,
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted === undefined) return false;
    await onNew(trx, inserted);
    return true;
  });
}

/**
 * Enqueues an event that is not about an alert (`log.checkpoint`) for every receiver, its body stored with it.
 * Each call is a new event: nothing is deduplicated.
 */
export async function enqueuePayloadEvent(
  db: Db,
  receivers: readonly OutboxReceiver[],
  event: string,
  payload: unknown,
  at: string,
): Promise<void> {
  if (receivers.length === 0) return;
  const body = JSON.stringify(payload);
  await db
    .insertInto('outbox')
    .values(receivers.map((r) => pendingRow(r, event, at, { alertId: null, payload: body })))
    .execute();
}

/**
 * The durable outbox of webhook deliveries. Several replicas may run a delivery loop against one database: a row
 * is claimed with a conditional UPDATE (claimed_until < now), so only one replica holds it until its lease ends.
 */
export class Outbox {
  constructor(private readonly db: Kysely<Database>) {}

  async claimDue(now: Date, leaseMs: number, limit: number): Promise<OutboxRow[]> {
    const token = randomUUID();
    const nowIso = now.toISOString();
    const until = new Date(now.getTime() + leaseMs).toISOString();
    const due = this.db
      .selectFrom('outbox')
      .select('id')
      .where('delivered_at', 'is', null)
      .where('next_attempt_at', '<=', nowIso)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', nowIso)]))
      .orderBy('id')
      .limit(limit);
    await this.db
      .updateTable('outbox')
      .set({ claimed_until: until, claim_token: token })
      .where('id', 'in', due)
      .where('delivered_at', 'is', null)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', nowIso)]))
      .execute();
    return this.db.selectFrom('outbox').selectAll().where('claim_token', '=', token).orderBy('id').execute();
  }

  /** Marks a claimed row delivered; false when the lease was lost to another replica meanwhile. */
  async markDelivered(row: OutboxRow, at: Date): Promise<boolean> {
    const res = await this.db
      .updateTable('outbox')
      .set({
        delivered_at: at.toISOString(),
        claimed_until: null,
        attempts: row.attempts + 1,
        last_error: null,
      })
      .where('id', '=', row.id)
      .where('claim_token', '=', row.claim_token)
      .where('delivered_at', 'is', null)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  async markFailed(row: OutboxRow, error: string, nextAttemptAt: Date): Promise<void> {
    await this.db
      .updateTable('outbox')
      .set({
        attempts: row.attempts + 1,
        last_error: error.slice(0, 500),
        next_attempt_at: nextAttemptAt.toISOString(),
        claimed_until: null,
        claim_token: null,
      })
      .where('id', '=', row.id)
      .where('claim_token', '=', row.claim_token)
      .execute();
  }

  /** Rows not yet delivered, and of those the ones that failed at least once (for /metrics). */
  async backlog(): Promise<{ pending: number; failing: number }> {
    const rows = await this.db
      .selectFrom('outbox')
      .select((eb) => [eb.fn.countAll<string | number>().as('n'), 'attempts'])
      .where('delivered_at', 'is', null)
      .groupBy('attempts')
      .execute();
    let pending = 0;
    let failing = 0;
    for (const r of rows) {
      pending += Number(r.n);
      if (r.attempts > 0) failing += Number(r.n);
    }
    return { pending, failing };
  }

  async pending(): Promise<OutboxRow[]> {
    return this.db.selectFrom('outbox').selectAll().where('delivered_at', 'is', null).orderBy('id').execute();
  }

  async all(): Promise<OutboxRow[]> {
    return this.db.selectFrom('outbox').selectAll().orderBy('id').execute();
  }
}
