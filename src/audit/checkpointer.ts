import type { KeyObject } from 'node:crypto';
import type { ChainHead } from './chain.js';
import {
  type Checkpoint,
  checkpointKeyId,
  checkpointOf,
  checkpointText,
  signCheckpoint,
} from './checkpoint.js';
import { CHECKPOINT_FILE, replaceFile } from './files.js';

export interface CheckpointOptions {
  /** The log's identity, first line of every checkpoint and the signing key's name. */
  origin: string;
  /** Ed25519 private key; without one checkpoints are written unsigned (see the README's threat model). */
  key?: KeyObject | undefined;
  /** How often the head is looked at while records arrive. Default 1000 ms. */
  intervalMs?: number;
}

/** The latest checkpoint, as served by `GET /admin/log/checkpoint` and sent to webhooks. */
export interface LatestCheckpoint {
  checkpoint: Checkpoint;
  /** The note: signed (text, blank line, signature line) or, without a key, the text alone. */
  note: string;
  signed: boolean;
  /** The signature's key ID, hex, when signed. */
  keyId?: string;
  /** When this checkpoint was made (not part of the note: extension lines are not recommended). */
  time: string;
}

interface CheckpointerLogger {
  error(obj: object, msg: string): void;
}

/**
 * Writes the latest checkpoint to `<dir>/checkpoint` on a timer, off the append path: appends never wait for it.
 * The head it reads is the last record known to be on disk, so a checkpoint never names a record that is not.
 */
export class Checkpointer {
  private latestCheckpoint: LatestCheckpoint | undefined;
  /** The checkpoint last written to the file: a failed write is tried again at the next tick. */
  private onDisk: Checkpoint | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private readonly keyId: string | undefined;

  constructor(
    private readonly dir: string,
    private readonly options: CheckpointOptions,
    private readonly head: () => ChainHead,
    private readonly logger: CheckpointerLogger,
    private readonly now: () => Date,
  ) {
    // Checked here, not at the first write: an origin that cannot be a key name fails the log's open.
    checkpointText(checkpointOf(options.origin, { seq: 0, hash: '0'.repeat(64) }));
    this.keyId = options.key === undefined ? undefined : checkpointKeyId(options.origin, options.key);
  }

  get latest(): LatestCheckpoint | undefined {
    return this.latestCheckpoint;
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.writing !== undefined || !this.behind()) return;
      this.writing = this.write()
        .catch((err: unknown) =>
          this.logger.error({ err, dir: this.dir }, 'failed to write the audit log checkpoint'),
        )
        .finally(() => {
          this.writing = undefined;
        });
    }, this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  /** Writes a checkpoint of the current head now if it moved since the last one. */
  async write(): Promise<void> {
    const head = this.head();
    const checkpoint = checkpointOf(this.options.origin, head);
    const key = this.options.key;
    const note = key === undefined ? checkpointText(checkpoint) : signCheckpoint(checkpoint, key);
    // Memory first: if the disk is full, the admin API and webhooks still carry the newest true head.
    this.latestCheckpoint = {
      checkpoint,
      note,
      signed: key !== undefined,
      ...(this.keyId === undefined ? {} : { keyId: this.keyId }),
      time: this.now().toISOString(),
    };
    await replaceFile(this.dir, CHECKPOINT_FILE, note);
    this.onDisk = checkpoint;
  }

  /** Stops the timer and writes the final checkpoint (call after the last record is on disk). */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.writing;
    await this.write();
  }

  private behind(): boolean {
    const written = this.onDisk;
    const head = this.head();
    return written === undefined || written.size !== head.seq || written.hash !== head.hash;
  }
}
