import type { LatestCheckpoint } from '../audit/index.js';
import type { Store } from '../store/open.js';
import { enqueuePayloadEvent } from '../store/outbox.js';
import type { CheckpointEvent } from './payload.js';
import type { Receiver } from './receivers.js';

export const CHECKPOINT_EVENT = 'log.checkpoint';

export interface CheckpointPublisherOptions {
  store: Store;
  receivers: readonly Receiver[];
  /** The decision log's latest checkpoint. */
  latest: () => LatestCheckpoint | undefined;
  /** The least time between two events. Default one minute. */
  intervalMs?: number;
  now?: () => Date;
  /** Called after an event was enqueued (wake the notifier). */
  onEnqueued?: () => void;
  onError?: (err: unknown, context: string) => void;
}

/**
 * Sends the decision log's checkpoint to the webhook receivers through the durable outbox, so that a copy lives
 * outside the machine: at start, then whenever the log has grown, at most once per interval. Someone who can
 * write the data directory can roll the log back to an older state and put an older checkpoint beside it; a
 * receiver that kept the newer checkpoint shows the rollback (`pullgate log verify --checkpoint`).
 */
export class CheckpointPublisher {
  private readonly intervalMs: number;
  private readonly now: () => Date;
  private last: { size: number; hash: string; atMs: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;

  constructor(private readonly options: CheckpointPublisherOptions) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    if (this.options.receivers.length === 0 || this.timer !== undefined) return;
    const run = () => {
      if (this.running !== undefined) return;
      this.running = this.tick()
        .catch((err: unknown) => {
          this.options.onError?.(err, 'failed to enqueue the log checkpoint');
          return false;
        })
        .finally(() => {
          this.running = undefined;
        });
    };
    // Looked at every second (a comparison in memory), so the first event goes out as soon as the log has
    // records and each later one soon after the interval has passed.
    this.timer = setInterval(run, Math.max(10, Math.min(1000, Math.floor(this.intervalMs / 6))));
    this.timer.unref();
    run();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Enqueues the latest checkpoint if the log grew and the interval has passed; true when it did. */
  async tick(): Promise<boolean> {
    const latest = this.options.latest();
    if (latest === undefined || this.options.receivers.length === 0) return false;
    const { size, hash, origin } = latest.checkpoint;
    if (size === 0) return false;
    const nowMs = this.now().getTime();
    if (this.last !== undefined) {
      if (this.last.size === size && this.last.hash === hash) return false;
      if (nowMs - this.last.atMs < this.intervalMs) return false;
    }
    const event: CheckpointEvent = {
      origin,
      size,
      hash,
      note: latest.note,
      signed: latest.signed,
      ...(latest.keyId === undefined ? {} : { keyId: latest.keyId }),
      time: latest.time,
    };
    await enqueuePayloadEvent(
      this.options.store.db,
      this.options.receivers,
      CHECKPOINT_EVENT,
      event,
      new Date(nowMs).toISOString(),
    );
    this.last = { size, hash, atMs: nowMs };
    this.options.onEnqueued?.();
    return true;
  }
}
