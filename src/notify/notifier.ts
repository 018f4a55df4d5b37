import { Webhook } from 'standardwebhooks';
import { request } from 'undici';
import type { z } from 'zod';
import type { Store } from '../store/open.js';
import { Outbox, receiverId } from '../store/outbox.js';
import type { OutboxRow } from '../store/schema.js';
import { TagStore } from '../store/tag-store.js';
import { toAlertView, type UpstreamNamer } from '../tags/alert-view.js';
import {
  checkpointEventSchema,
  renderCheckpointPayload,
  renderPayload,
  renderWarnedImagePayload,
  warnedImageViewSchema,
} from './payload.js';
import type { Receiver } from './receivers.js';

export interface NotifierOptions {
  store: Store;
  receivers: readonly Receiver[];
  /** How often the loop looks for due rows when nothing woke it. */
  pollMs?: number;
  /** How long a claimed row belongs to this replica before another may retry it. */
  leaseMs?: number;
  batchSize?: number;
  /** Per-request inactivity timeout. */
  timeoutMs?: number;
  backoff?: { baseMs: number; maxMs: number };
  now?: () => Date;
  /** PULLGATE_PUBLIC_URL: payloads link to the alert's console page under it. */
  publicUrl?: string | undefined;
  onError?: (err: unknown, context: string) => void;
  /** A delivery attempt failed (it is retried); the reason names no URL. */
  onDeliveryFailed?: (failure: {
    event: string;
    alertId: number | null;
    attempts: number;
    reason: string;
  }) => void;
  /** Told each delivery attempt's outcome (for /metrics). */
  onAttempt?: (outcome: 'delivered' | 'failed') => void;
  /** How alerts name an upstream key (the default upstream by its own host unless it is Docker Hub). */
  upstreamName?: UpstreamNamer;
}

/**
 * Delivers webhook events from the durable outbox. A row is marked delivered only after a 2xx answer, so an event
 * raised while a receiver is down is retried (exponential backoff with jitter, capped) until it is taken, also
 * after a restart; a row claimed by another replica is left alone until its lease ends. Each request carries
 * `Idempotency-Key`, so a receiver can drop the duplicate that a crash between its 2xx and our mark could cause.
 */
export class Notifier {
  private readonly outbox: Outbox;
  private readonly tags: TagStore;
  private readonly receivers: Map<string, Receiver>;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = true;
  private again = false;

  constructor(private readonly options: NotifierOptions) {
    this.outbox = new Outbox(options.store.db);
    this.tags = new TagStore(options.store.db);
    this.receivers = new Map(options.receivers.map((r) => [receiverId(r.url), r]));
    this.now = options.now ?? (() => new Date());
  }

  /** Starts the loop; undelivered rows from before a restart are due at once. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => 0);
  }

  /** Runs a pass soon (after an alert was opened). */
  wake(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.runOnce()
        .catch((err: unknown) => {
          this.options.onError?.(err, 'failed to run a webhook delivery pass');
          return 0;
        })
        .finally(() => {
          this.running = undefined;
          const again = this.again;
          this.again = false;
          this.schedule(again ? 0 : (this.options.pollMs ?? 1000));
        });
    }, ms);
    this.timer.unref();
  }

  /** One pass: claims due rows and tries each once. Returns how many were delivered. */
  async runOnce(): Promise<number> {
    const rows = await this.outbox.claimDue(
      this.now(),
      this.options.leaseMs ?? 30_000,
      this.options.batchSize ?? 20,
    );
    let delivered = 0;
    for (const row of rows) {
      if (await this.deliver(row)) delivered++;
    }
    return delivered;
  }

  private backoffMs(attempts: number): number {
    const { baseMs, maxMs } = this.options.backoff ?? { baseMs: 1000, maxMs: 5 * 60_000 };
    const exp = Math.min(maxMs, baseMs * 2 ** Math.min(attempts, 30));
    // Full jitter keeps replicas and many rows from retrying in lockstep against a receiver that just recovered.
    return Math.round(exp / 2 + Math.random() * (exp / 2));
  }

  private async deliver(row: OutboxRow): Promise<boolean> {
    const receiver = this.receivers.get(row.receiver);
    const fail = async (reason: string) => {
      this.options.onDeliveryFailed?.({
        event: row.event,
        alertId: row.alert_id,
        attempts: row.attempts + 1,
        reason,
      });
      this.options.onAttempt?.('failed');
      await this.outbox.markFailed(
        row,
        reason,
        new Date(this.now().getTime() + this.backoffMs(row.attempts)),
      );
      return false;
    };
    if (receiver === undefined || receiver.format !== row.format) {
      return fail('receiver is no longer configured');
    }
    const deliveryId = `pullgate-${row.id}`;
    let body: string;
    if (row.alert_id === null && row.event === 'image.warned') {
      const image = parsePayload(row.payload, warnedImageViewSchema);
      if (image === undefined) return fail('event has no readable payload');
      body = JSON.stringify(renderWarnedImagePayload(row.format, row.event, deliveryId, image));
    } else if (row.alert_id === null) {
      // An event that carries its own body (`log.checkpoint`).
      const payload = parsePayload(row.payload, checkpointEventSchema);
      if (payload === undefined) return fail('event has no readable payload');
      body = JSON.stringify(renderCheckpointPayload(row.format, row.event, deliveryId, payload));
    } else {
      const alert = await this.tags.alert(row.alert_id);
      if (alert === undefined) return fail('alert not found');
      body = JSON.stringify(
        renderPayload(
          row.format,
          row.event,
          deliveryId,
          toAlertView(alert, undefined, this.options.upstreamName),
          this.options.publicUrl,
        ),
      );
    }
    const timeout = this.options.timeoutMs ?? 10_000;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'pullgate-webhook/1',
      'idempotency-key': deliveryId,
      'x-pullgate-event': row.event,
    };
    if (receiver.secret !== undefined) {
      // Standard Webhooks (standardwebhooks.com): the id is stable across retries so a receiver can drop
      // duplicates; the timestamp is this attempt's, so a replayed old delivery fails the receiver's tolerance.
      const at = this.now();
      headers['webhook-id'] = deliveryId;
      headers['webhook-timestamp'] = String(Math.floor(at.getTime() / 1000));
      try {
        headers['webhook-signature'] = new Webhook(receiver.secret).sign(deliveryId, at, body);
      } catch {
        return fail('the receiver secret is not a valid Standard Webhooks secret');
      }
    }
    try {
      const res = await request(receiver.url, {
        method: 'POST',
        body,
        headers,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      await res.body.dump();
      if (res.statusCode < 200 || res.statusCode >= 300) return fail(`receiver answered ${res.statusCode}`);
    } catch (err) {
      // The error names the transport failure only; the URL (a credential for Slack) stays out of the record.
      const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'error';
      return fail(`delivery failed: ${code}`);
    }
    this.options.onAttempt?.('delivered');
    return this.outbox.markDelivered(row, this.now());
  }
}

function parsePayload<T>(text: string | null, schema: z.ZodType<T>): T | undefined {
  if (text === null) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
