import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { FileHandle } from 'node:fs/promises';
import { open, rename, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { algorithmOf } from '../oci/digest.js';
import { noteStreamed } from './streamed.js';
import { DigestMismatchError } from './verifying-stream.js';

export interface UpstreamBlob {
  /** From the upstream's Content-Length, when it sent one. */
  size: number | undefined;
  body: Readable;
  /**
   * Turns a failure while the body streams (a reset, a short body, a digest mismatch) into the error readers get,
   * so a client whose answer has not started yet is told what the upstream did rather than a bare internal error.
   */
  describeFailure?: (err: Error) => Error;
}

/** What the fill knows of one reader: whether it would take the chunk at an offset now, and whether it is full. */
interface Tap {
  levelAt(offset: number): boolean;
  /** Its last push was refused (its buffer reached the high-water mark) and it has not asked for more since. */
  full: boolean;
}

export type OpenUpstreamBlob = (signal: AbortSignal) => Promise<UpstreamBlob>;

type FillState = 'opening' | 'filling' | 'done' | 'failed';

// The size of a read from the fill's file, and a reader's buffer: 64 KiB, the size of the socket reads the upstream
// chunks come in, so the malloc heap reuses one size of freed chunk for both instead of fragmenting. Measured here,
// one cold 512 MiB stream: 136–146 MiB peak over 9 rounds with 64 KiB, 137–154 MiB over 5 with 256 KiB, same speed.
const readChunkBytes = 64 * 1024;
// How much of the upstream may wait in memory while a file write is in flight: enough that the upstream socket
// keeps flowing during a write, bounded so a fill's memory stays small whatever the blob size.
const pendingWriteBytes = 1024 * 1024;
// The upstream's latest chunks, kept for readers a little behind the fastest: they take these same buffers (shared,
// not copied) instead of reading the bytes back from the file. It bounds how long a chunk lives after it arrives, so
// chunks still die before the young generation is next collected (every 4 MiB streamed, see src/cli/young-gc.ts).
const windowBytes = 1024 * 1024;

/**
 * One upstream read of one blob, written to a temp file while it is hashed; every client that wants the blob
 * meanwhile reads that file as it grows, at its own pace. Only a verified fill is renamed into the cache. The
 * last byte of a blob of known size is held back from readers until the digest is verified, and a reader of a
 * failed fill is destroyed: a client never completes a transfer of wrong bytes.
 */
export class BlobFill extends EventEmitter {
  readonly ready: Promise<number | undefined>;
  written = 0;
  /** Bytes received from the upstream (hashed, maybe not yet written). */
  private received = 0;
  size: number | undefined;
  private state: FillState = 'opening';
  private error: Error | undefined;
  private readers = 0;
  /** Every reader, as the fill sees it when deciding whether to read on (see awaitDemand). */
  private readonly taps = new Set<Tap>();
  private wakeFill: (() => void) | undefined;
  /** The latest chunks from the upstream, oldest first: bytes [windowStart, received). */
  private window: Buffer[] = [];
  private windowStart = 0;
  private handle: FileHandle | undefined;
  private describeFailure: ((err: Error) => Error) | undefined;
  private readonly controller = new AbortController();
  private resolveReady!: (size: number | undefined) => void;
  private rejectReady!: (err: Error) => void;

  constructor(
    readonly digest: string,
    private readonly tmpPath: string,
    private readonly finalPath: string,
    private readonly onCommitted: (size: number) => void,
    private readonly onSettled: () => void,
  ) {
    super();
    this.setMaxListeners(0);
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {});
  }

  get failed(): Error | undefined {
    return this.error;
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /**
   * A fill a new reader must not join: it failed, or its last reader left and its upstream read was told to stop
   * (it is still winding down and about to fail). A request for the blob then starts a fill of its own.
   */
  get abandoned(): boolean {
    return this.state === 'failed' || (this.state !== 'done' && this.controller.signal.aborted);
  }

  /** Starts the upstream read. Never rejects: failures are delivered to `ready` and to readers. */
  async run(openUpstream: OpenUpstreamBlob): Promise<void> {
    try {
      this.handle = await open(this.tmpPath, 'w+');
      const upstream = await openUpstream(this.controller.signal);
      this.describeFailure = upstream.describeFailure;
      this.size = upstream.size;
      this.state = 'filling';
      this.resolveReady(upstream.size);
      await this.copy(upstream.body);
    } catch (err) {
      await this.fail(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.onSettled();
      await this.maybeClose();
    }
  }

  /** A reader over [start, end] (inclusive), or to the end of the blob. */
  createReader(start = 0, end?: number): Readable {
    this.readers++;
    let position = start;
    let pumping = false;
    let released = false;
    const tap: Tap = {
      full: false,
      levelAt: (offset) => end === undefined && !pumping && !reader.destroyed && position === offset,
    };
    const release = () => {
      if (released) return;
      released = true;
      this.readers--;
      this.taps.delete(tap);
      this.demand();
      this.off('progress', wake);
      if (this.readers === 0 && (this.state === 'filling' || this.state === 'opening')) {
        // The last client left: nobody wants these bytes, so the upstream read stops (and nothing is cached).
        this.controller.abort(new Error('every client disconnected'));
      }
      void this.maybeClose();
    };
    const reader = new Readable({
      highWaterMark: readChunkBytes,
      read: () => {
        tap.full = false;
        this.demand();
        void pump();
      },
      destroy(err, callback) {
        release();
        callback(err);
      },
    });
    // A fill can fail before the reader is handed to a response; that failure reaches the client through
    // `ready` or the response's own error listener, and must not also become an uncaught 'error' event.
    reader.on('error', () => {});
    const wake = () => {
      void pump();
    };
    this.on('progress', wake);
    this.taps.add(tap);
    // A reader level with the upstream takes each chunk as it arrives (the fill waits for the fastest such reader,
    // see awaitDemand): a single stream is one pipe from the upstream socket to the client's. A reader behind by
    // less than the window takes the same chunks from memory; one further behind catches up from the file at its
    // own pace. A full reader takes nothing until it asks for more (read()), so its buffer stays bounded.
    const pump = async () => {
      if (pumping || reader.destroyed) return;
      pumping = true;
      try {
        for (;;) {
          if (this.error !== undefined) {
            reader.destroy(this.error);
            return;
          }
          const total = this.state === 'done' ? this.written : undefined;
          const last = end ?? (total !== undefined ? total - 1 : Number.POSITIVE_INFINITY);
          if (position > last || (total !== undefined && position >= total)) {
            reader.push(null);
            release();
            return;
          }
          if (tap.full) return; // wait for read()
          const inMemory = this.fromWindow(position, last + 1);
          if (inMemory !== undefined) {
            position += inMemory.length;
            if (!reader.push(inMemory)) tap.full = true;
            continue;
          }
          const available = this.available();
          if (position >= available || this.handle === undefined) return; // wait for 'progress'
          const length = Math.min(readChunkBytes, available - position, last - position + 1);
          const buffer = Buffer.allocUnsafe(length);
          const { bytesRead } = await this.handle.read(buffer, 0, length, position);
          if (reader.destroyed) return;
          position += bytesRead;
          noteStreamed(bytesRead);
          if (!reader.push(bytesRead === length ? buffer : buffer.subarray(0, bytesRead))) tap.full = true;
        }
      } catch (err) {
        reader.destroy(err instanceof Error ? err : new Error(String(err)));
      } finally {
        pumping = false;
      }
    };
    return reader;
  }

  /** A reader wants more, or left: the fill may read on if it was waiting for one (awaitDemand). */
  private demand(): void {
    const wake = this.wakeFill;
    this.wakeFill = undefined;
    wake?.();
  }

  /**
   * Waits while every reader level with the upstream has a full buffer: the upstream is read no faster than the
   * fastest client takes it, as a pipe would, instead of running ahead into the file for that client to read back
   * (a thread-pool round trip and a new buffer per chunk). Readers behind, on the file, never hold the fill up;
   * with none level the fill runs at the upstream's pace.
   */
  private async awaitDemand(): Promise<void> {
    for (;;) {
      let waiting = false;
      for (const tap of this.taps) {
        if (!tap.levelAt(this.received)) continue;
        if (!tap.full) return;
        waiting = true;
      }
      if (!waiting || this.controller.signal.aborted) return;
      await new Promise<void>((resolve) => {
        this.wakeFill = resolve;
      });
    }
  }

  /** Keeps a chunk just received in the window, dropping the oldest beyond windowBytes. */
  private remember(chunk: Buffer): void {
    this.window.push(chunk);
    let kept = this.received - this.windowStart;
    for (;;) {
      const oldest = this.window[0];
      if (oldest === undefined || kept - oldest.length < windowBytes) return;
      this.window.shift();
      this.windowStart += oldest.length;
      kept -= oldest.length;
    }
  }

  private forgetWindow(): void {
    this.window = [];
    this.windowStart = this.received;
  }

  /**
   * The bytes from `position` to the end of their chunk (and before `limit`) if they are still in the window, but
   * never the held-back last byte of a blob of known size that is not yet verified (see available()).
   */
  private fromWindow(position: number, limit: number): Buffer | undefined {
    const end = Math.min(limit, this.releasable(this.received));
    if (position < this.windowStart || position >= end) return undefined;
    let at = this.windowStart;
    for (const chunk of this.window) {
      if (position < at + chunk.length) {
        const from = position - at;
        const to = Math.min(chunk.length, end - at);
        return from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to);
      }
      at += chunk.length;
    }
    return undefined;
  }

  /** Bytes a reader may take from the file now: all of a verified fill, else what is written, less the last byte. */
  private available(): number {
    return this.releasable(this.written);
  }

  /**
   * Of the first `bytes` the fill holds, how many a reader may have: all once the fill is verified; before that,
   * never the last byte of a blob of known size, so no client completes a transfer before the digest is checked.
   */
  private releasable(bytes: number): number {
    if (this.state === 'done' || this.size === undefined) return bytes;
    return Math.min(bytes, this.size - 1);
  }

  private async copy(body: Readable): Promise<void> {
    const algorithm = algorithmOf(this.digest);
    const hash = createHash(algorithm);
    const handle = this.handle;
    if (handle === undefined) throw new Error('fill has no file');
    // Chunks that arrive while a write is in flight are written together with one writev (no copying into a
    // bigger buffer), so a fast upstream is not held to one system call per network chunk.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      let buffers = pending;
      let left = pendingBytes;
      pending = [];
      pendingBytes = 0;
      while (left > 0) {
        const { bytesWritten } = await handle.writev(buffers, this.written);
        this.written += bytesWritten;
        left -= bytesWritten;
        // A short write (rare: a signal, a nearly full disk) continues where it stopped.
        if (left > 0) buffers = [Buffer.concat(buffers).subarray(bytesWritten)];
      }
      this.emit('progress');
    };
    let writing: Promise<void> = Promise.resolve();
    try {
      for await (const chunk of body) {
        const buf = chunk as Buffer;
        hash.update(buf);
        noteStreamed(buf.length);
        pending.push(buf);
        pendingBytes += buf.length;
        if (this.size !== undefined && this.written + pendingBytes > this.size) {
          throw new Error('upstream sent more bytes than its Content-Length');
        }
        this.received += buf.length;
        this.remember(buf);
        this.emit('progress');
        if (pendingBytes >= pendingWriteBytes) {
          // Backpressure: at most one write in flight and pendingWriteBytes waiting, however fast the upstream.
          await writing;
          writing = flush();
        } else {
          writing = writing.then(flush);
        }
        // A write that fails (ENOSPC) while the loop waits for the next chunk has nobody awaiting it yet: mark it
        // handled here; the failure still reaches the fill through the next `await writing`.
        writing.catch(() => undefined);
        await this.awaitDemand();
      }
      await writing;
      await flush();
    } catch (err) {
      // A write already queued must settle before the file is closed, or it fails against a closed handle with
      // nobody awaiting it (an unhandled rejection).
      await writing.catch(() => undefined);
      throw err;
    }
    if (this.size !== undefined && this.written !== this.size) throw new Error('upstream blob was truncated');
    const actual = `${algorithm}:${hash.digest('hex')}`;
    if (actual !== this.digest) throw new DigestMismatchError(this.digest, actual);
    await rename(this.tmpPath, this.finalPath);
    // Every byte is in the file now; readers behind take the rest from there.
    this.forgetWindow();
    this.state = 'done';
    this.onCommitted(this.written);
    this.emit('progress');
  }

  private async fail(err: Error): Promise<void> {
    // A fill stopped because its last reader left has nobody to tell; anything else is the upstream's doing.
    const error = this.controller.signal.aborted ? err : (this.describeFailure?.(err) ?? err);
    // The bytes go before anyone is told: a reader that sees the failure finds nothing of the blob left on disk, and
    // none is handed from memory meanwhile.
    this.forgetWindow();
    await unlink(this.tmpPath).catch(() => {});
    this.error = error;
    this.state = 'failed';
    this.rejectReady(error);
    this.emit('progress');
  }

  private async maybeClose(): Promise<void> {
    if (this.readers > 0 || this.state === 'opening' || this.state === 'filling') return;
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => {});
  }
}
