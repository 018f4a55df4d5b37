import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ChainHead, GENESIS_HASH, parseChainedLine } from './chain.js';
import {
  type Checkpoint,
  checkpointKeyId,
  checkpointOf,
  checkpointText,
  parseCheckpointText,
  signCheckpoint,
} from './checkpoint.js';
import { CHECKPOINT_FILE, isErrno, listLogFiles, readAnchor, readFileLines, replaceFile } from './files.js';

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
  /** The signing key's ID (hex), a public identifier; undefined when unsigned. */
  readonly keyId: string | undefined;

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

/**
 * The problem with the log on disk, given the checkpoint found beside it, or undefined when they agree. Run at
 * open, before a new checkpoint replaces the old one: signing the head of a log that lost records, or whose
 * chain no longer has the old checkpoint's hash, would sign a checkpoint inconsistent with one signed before
 * (tlog-checkpoint: a log "MUST not sign any checkpoint which is inconsistent with any checkpoint it previously
 * signed") and launder the damage. Records after the checkpoint are normal: the last second before a crash.
 */
export async function checkpointConflict(dir: string, head: ChainHead): Promise<string | undefined> {
  let content: string;
  try {
    content = await readFile(join(dir, CHECKPOINT_FILE), 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  const split = content.lastIndexOf('\n\n');
  const parsed = parseCheckpointText(split === -1 ? content : content.slice(0, split + 1));
  if (!parsed.ok) return `${CHECKPOINT_FILE} cannot be read: ${parsed.reason}`;
  const { size, hash } = parsed.checkpoint;
  if (size > head.seq) {
    return `the log ends at record ${head.seq} but its checkpoint says ${size} records were written: records were removed`;
  }
  const found = await hashAt(dir, size);
  if (found !== undefined && found !== hash) {
    return `record ${size} is not the record the checkpoint names: the log was rewritten`;
  }
  return undefined;
}

/** The hash of record `seq` (genesis for 0), or undefined when retention deleted it or no file holds it. */
async function hashAt(dir: string, seq: number): Promise<string | undefined> {
  if (seq === 0) return GENESIS_HASH;
  const anchor = await readAnchor(dir);
  if (anchor !== undefined && seq <= anchor.seq) return seq === anchor.seq ? anchor.hash : undefined;
  const file = (await listLogFiles(dir)).filter((f) => f.firstSeq <= seq).at(-1);
  if (file === undefined) return undefined;
  for await (const line of readFileLines(join(dir, file.name))) {
    const record = line.terminated ? parseChainedLine(line.text) : undefined;
    if (record?.seq === seq) return record.hash;
  }
  return undefined;
}
