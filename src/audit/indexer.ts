import { join } from 'node:path';
import { parseChainedLine } from './chain.js';
import { isErrno, listLogFiles, readAnchor, readFileLines } from './files.js';
import { type AuditRecord, auditRecordSchema } from './record.js';
import type { AuditLogger } from './writer.js';

/** Where records are indexed (the store's decision_index table). */
export interface RecordIndex {
  insert(replica: string, records: readonly AuditRecord[]): Promise<void>;
  maxSeq(replica: string): Promise<number>;
  deleteReplica(replica: string): Promise<void>;
  /** After a bulk load: brings the database's planner statistics up to date, where it keeps them. */
  refreshStatistics?(): Promise<void>;
  /** Drops the replica's rows with a seq up to `through`: records retention deleted from the files. */
  deleteThrough(replica: string, through: number): Promise<void>;
}

export interface AuditIndexerOptions {
  index: RecordIndex;
  replica: string;
  /** This replica's log directory: read to catch up. */
  dir: string;
  logger?: AuditLogger;
  /** How long records gather before one insert. Default 200 ms. */
  batchMs?: number;
  /** Most records in one insert. Default 1000. */
  maxBatch?: number;
  /** Past this many records waiting (the store is down), the queue is dropped and read back from the files. */
  maxQueue?: number;
  /** Wait after a failed insert before trying again. Default 1 s. */
  retryMs?: number;
}

const silentLogger: AuditLogger = { info() {}, warn() {}, error() {} };

/**
 * Feeds the decision index from the log, off the answer path: the writer tells it of records already on disk
 * (`onAppended`), they gather for `batchMs` and go to the store in one insert. The index always holds a prefix of the
 * replica's chain (batches are inserted in seq order, a failed one is retried before any later one), so its highest
 * seq says where to resume: at start, and whenever the queue had to be dropped, the records after it are read back
 * from the files, which stay the record.
 */
export class AuditIndexer {
  private readonly batchMs: number;
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  private readonly retryMs: number;
  private readonly logger: AuditLogger;
  private queue: AuditRecord[] = [];
  /** Highest seq known to be in the index; undefined until the start's catch-up has run. */
  private indexed: number | undefined;
  /** The queue was dropped (or has a gap): resume from the files. */
  private behind = true;
  /** Retention deleted every record up to this seq from the files; `pruned` is how far the index followed. */
  private pruneTo = 0;
  private pruned = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: AuditIndexerOptions) {
    this.batchMs = options.batchMs ?? 200;
    this.maxBatch = options.maxBatch ?? 1000;
    this.maxQueue = options.maxQueue ?? 100_000;
    this.retryMs = options.retryMs ?? 1000;
    this.logger = options.logger ?? silentLogger;
  }

  /** For the writer's `onAppended`: never throws, never waits. */
  readonly enqueue = (records: readonly AuditRecord[]): void => {
    if (this.closed) return;
    if (this.queue.length + records.length > this.maxQueue) {
      this.queue = [];
      this.behind = true;
    } else {
      for (const r of records) this.queue.push(r);
    }
    this.schedule(this.batchMs);
  };

  /**
   * For the writer's `onPruned`: retention deleted the files holding every record up to `through`, so their rows
   * go too (the index never holds more than the log). Never throws, never waits; a store that refuses is asked again.
   */
  readonly prune = (through: number): void => {
    if (this.closed || through <= this.pruneTo) return;
    this.pruneTo = through;
    this.schedule(this.batchMs);
  };

  /**
   * Indexes what the files hold beyond the index (a crash's leftovers), drops the rows of records retention deleted
   * while nobody was listening (at the log's open, before a crash, while the store was down), then keeps feeding.
   */
  async start(): Promise<void> {
    const anchor = await readAnchor(this.options.dir);
    if (anchor !== undefined) this.prune(anchor.seq);
    await this.run();
  }

  /** Everything queued so far is indexed when this resolves (or the store refused: the files will be read again). */
  async flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.run();
  }

  /** Stops feeding after one last attempt; whatever is left is indexed at the next start. */
  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Drops this replica's rows and indexes every record its files hold (`pullgate log reindex`). */
  async reindex(): Promise<number> {
    await this.options.index.deleteReplica(this.options.replica);
    this.indexed = 0;
    this.behind = true;
    await this.run();
    await this.options.index.refreshStatistics?.();
    return this.indexed;
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run().catch(() => undefined);
    }, ms);
    this.timer.unref();
  }

  /** One pass at a time; a caller arriving during a pass waits for it and then runs its own. */
  private async run(): Promise<void> {
    while (this.running !== undefined) await this.running;
    const pass = this.pass();
    this.running = pass;
    try {
      await pass;
    } catch (err) {
      this.logger.warn(
        { err, replica: this.options.replica, waiting: this.queue.length },
        'failed to index decision log records',
      );
      this.schedule(this.retryMs);
      throw err;
    } finally {
      this.running = undefined;
    }
  }

  private async pass(caughtUp = false): Promise<void> {
    const { index, replica } = this.options;
    if (this.indexed === undefined) this.indexed = await index.maxSeq(replica);
    if (this.behind) {
      this.behind = false;
      try {
        await this.catchUp();
      } catch (err) {
        this.behind = true;
        throw err;
      }
    }
    while (this.queue.length > 0) {
      // Records the catch-up already read from the files.
      while ((this.queue[0]?.seq ?? Number.POSITIVE_INFINITY) <= this.indexed) this.queue.shift();
      const first = this.queue[0];
      if (first === undefined) break;
      if (first.seq !== this.indexed + 1 && !caughtUp) {
        // A gap (records written before the feed was attached): the files fill it. Once they have been read, a gap
        // left (a line no record schema accepts) stays one.
        this.behind = true;
        return this.pass(true);
      }
      const batch = this.queue.slice(0, this.maxBatch);
      await index.insert(replica, batch);
      this.queue.splice(0, batch.length);
      this.indexed = batch[batch.length - 1]?.seq ?? this.indexed;
    }
    // Last, so that rows a catch-up just read from a file retention deleted meanwhile go too.
    const through = this.pruneTo;
    if (through > this.pruned) {
      await index.deleteThrough(replica, through);
      this.pruned = through;
      this.logger.info({ replica, through }, 'dropped the index rows of deleted decision log files');
    }
  }

  /** Indexes every complete record in the files with a seq above the index's highest. */
  private async catchUp(): Promise<void> {
    const { dir, index, replica } = this.options;
    const from = this.indexed ?? 0;
    const files = await listLogFiles(dir);
    let batch: AuditRecord[] = [];
    let added = 0;
    const push = async () => {
      if (batch.length === 0) return;
      await index.insert(replica, batch);
      this.indexed = batch[batch.length - 1]?.seq ?? this.indexed;
      added += batch.length;
      batch = [];
    };
    for (const [i, f] of files.entries()) {
      const next = files[i + 1];
      // A file whose successor starts at or below the resume point holds nothing new.
      if (next !== undefined && next.firstSeq <= from + 1) continue;
      try {
        for await (const line of readFileLines(join(dir, f.name))) {
          // An unterminated last line is a write in progress: the live feed brings it once it is on disk.
          if (!line.terminated) break;
          const raw = parseChainedLine(line.text);
          if (raw === undefined || raw.seq <= (this.indexed ?? 0) || raw.seq <= this.pruneTo) continue;
          const parsed = auditRecordSchema.safeParse(raw);
          if (!parsed.success) continue;
          batch.push(parsed.data);
          if (batch.length >= this.maxBatch) await push();
        }
      } catch (err) {
        // Retention deleted the file between listing and reading: its records are gone by design.
        if (isErrno(err, 'ENOENT')) continue;
        throw err;
      }
    }
    await push();
    if (added > 0) {
      this.logger.info(
        { replica, records: added, from: from + 1 },
        'indexed decision log records from the files',
      );
    }
  }
}
