import { enqueuePayloadEvent, type OutboxReceiver, recordWarnedImage, type Store } from '../store/index.js';
import { toWarnedImageView } from './payload.js';

export interface WarnedPull {
  upstream: string;
  repository: string;
  reference: string;
  digest: string;
  policyVersion: string;
  findings: readonly { rule: string; key?: string | undefined }[];
}

export interface WarnedImageNoticesOptions {
  store: Store;
  receivers: readonly OutboxReceiver[];
  /** How the notice names an upstream key (the default upstream by its own host unless it is Docker Hub). */
  upstreamName?: (upstream: string) => string;
  /** Called when this process recorded a new warned image (e.g. to wake the notifier). */
  onRecorded?: () => void;
  onError?: (err: unknown) => void;
  now?: () => Date;
  /** Keys remembered in memory so repeat pulls cost no store write; cleared when full. */
  memory?: number;
}

/**
 * The per-image digest of warned pulls: the first time an image is served with warnings under a policy version, it
 * is recorded and an `image.warned` event goes to every webhook receiver through the outbox (once, however many
 * pulls or replicas). The pull never waits for it: it was served and its decision is already in the log.
 */
export class WarnedImageNotices {
  private readonly seen = new Set<string>();
  private readonly now: () => Date;

  constructor(private readonly options: WarnedImageNoticesOptions) {
    this.now = options.now ?? (() => new Date());
  }

  note(pull: WarnedPull): Promise<void> {
    const key = `${pull.upstream}\0${pull.repository}\0${pull.digest}\0${pull.policyVersion}`;
    if (this.seen.has(key)) return Promise.resolve();
    if (this.seen.size >= (this.options.memory ?? 10_000)) this.seen.clear();
    this.seen.add(key);
    const at = this.now().toISOString();
    const { receivers, upstreamName } = this.options;
    return recordWarnedImage(this.options.store.db, { ...pull, at }, (trx, row) =>
      enqueuePayloadEvent(
        trx,
        receivers,
        'image.warned',
        toWarnedImageView(row, upstreamName?.(row.upstream) ?? row.upstream),
        at,
      ),
    ).then(
      (created) => {
        if (created) this.options.onRecorded?.();
      },
      (err: unknown) => {
        // Tried again on the next warned pull of this image.
        this.seen.delete(key);
        this.options.onError?.(err);
      },
    );
  }
}
