import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { FileHandle } from 'node:fs/promises';
import { open, rename, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { noteStreamed } from './memory.js';
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

export type OpenUpstreamBlob = (signal: AbortSignal) => Promise<UpstreamBlob>;

type FillState = 'opening' | 'filling' | 'done' | 'failed';

// A reader's buffer, and the size of its reads from the fill's file when it has fallen behind the memory window:
// 64 KiB, the size of the socket reads the upstream chunks come in, so the malloc heap reuses one size of freed
// chunk for both instead of fragmenting. Measured here (issue 16), one cold 256 MiB stream: peak RSS 110–116 MiB
// over 4 rounds with 64 KiB, 108–159 MiB with 256 KiB, same speed.
const readChunkBytes = 64 * 1024;
// How much of the upstream may wait in memory for its file write: enough that the upstream socket keeps flowing
// while a write is in flight, bounded so a fill's memory stays small whatever the blob size. Beyond it the upstream
// is paused until the write lands.
const pendingWriteBytes = 1024 * 1024;
// The most recent bytes received, kept in memory (the upstream's own chunks, no copy) after they are written, so a
// reader that keeps up with the upstream is handed them directly instead of reading them back from the file: no
// thread-pool round trip per chunk, and no wait for the write (issue 16: a reader fed through the file stalled
// on every write). A reader further behind than this reads the file.
const windowBytes = 2 * 1024 * 1024;
// IOV_MAX on Linux; a writev with more buffers fails with EINVAL.
const maxWriteBuffers = 1024;

interface WindowChunk {
  offset: number;
  bytes: Buffer;
}

/**
 * One upstream read of one blob, written to a temp file while it is hashed; every client that wants the blob
 * meanwhile reads it at its own pace: from the fill's memory window while it keeps up, from the temp file when it
 * falls behind. Only a verified fill is renamed into the cache. The last byte of a blob of known size is held back
 * from readers until the digest is verified, and a reader of a failed fill is destroyed: a client never completes a
 * transfer of wrong bytes.
 */
export class BlobFill extends EventEmitter {
  readonly ready: Promise<number | undefined>;
  /** Bytes on disk in the temp file. */
  written = 0;
  /** Bytes received from the upstream and hashed (in the window, maybe not yet written). */
  private received = 0;
  size: number | undefined;
  private state: FillState = 'opening';
  private error: Error | undefined;
  private readers = 0;
  private handle: FileHandle | undefined;
  private describeFailure: ((err: Error) => Error) | undefined;
  private readonly controller = new AbortController();
  /** Received chunks in order, from the oldest still kept (see windowBytes) to the newest. */
  private window: WindowChunk[] = [];
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
      await this.fail(toError(err));
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
    const release = () => {
      if (released) return;
      released = true;
      this.readers--;
      this.off('progress', wake);
      if (this.readers === 0 && (this.state === 'filling' || this.state === 'opening')) {
        // The last client left: nobody wants these bytes, so the upstream read stops (and nothing is cached).
        this.controller.abort(new Error('every client disconnected'));
      }
      void this.maybeClose();
    };
    const reader = new Readable({
      highWaterMark: readChunkBytes,
      read() {
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
          const limit = Math.min(this.available(), last + 1);
          if (position >= limit) return; // wait for 'progress'
          // Handed over from memory (a view of the upstream's chunk, no copy) while the reader is in the window.
          const kept = this.fromWindow(position, limit);
          if (kept !== undefined) {
            position += kept.length;
            if (!reader.push(kept)) return;
            continue;
          }
          // Behind the window: everything before it is on disk.
          const handle = this.handle;
          if (handle === undefined) return;
          const length = Math.min(readChunkBytes, Math.min(limit, this.written) - position);
          if (length <= 0) return;
          const buffer = Buffer.allocUnsafe(length);
          const { bytesRead } = await handle.read(buffer, 0, length, position);
          if (reader.destroyed) return;
          if (bytesRead === 0) throw new Error('blob fill file is shorter than written');
          position += bytesRead;
          noteStreamed(bytesRead);
          if (!reader.push(bytesRead === length ? buffer : buffer.subarray(0, bytesRead))) return;
        }
      } catch (err) {
        reader.destroy(toError(err));
      } finally {
        pumping = false;
      }
    };
    return reader;
  }

  /** Bytes a reader may take now: all of a verified fill, else what is received, less the held-back last byte. */
  private available(): number {
    if (this.state === 'done') return this.written;
    if (this.size !== undefined) return Math.min(this.received, this.size - 1);
    return this.received;
  }

  /** The kept bytes from `position` (up to `limit`, within one chunk), or undefined when it is before the window. */
  private fromWindow(position: number, limit: number): Buffer | undefined {
    const window = this.window;
    const first = window[0];
    if (first === undefined || position < first.offset) return undefined;
    // Readers are nearly always near the newest chunk: search from the end.
    for (let i = window.length - 1; i >= 0; i--) {
      const chunk = window[i];
      if (chunk === undefined || chunk.offset > position) continue;
      const from = position - chunk.offset;
      if (from >= chunk.bytes.length) return undefined;
      const to = Math.min(chunk.bytes.length, limit - chunk.offset);
      return from === 0 && to === chunk.bytes.length ? chunk.bytes : chunk.bytes.subarray(from, to);
    }
    return undefined;
  }

  /** Drops kept chunks that are written and older than windowBytes. */
  private trimWindow(): void {
    const window = this.window;
    let drop = 0;
    for (const chunk of window) {
      const chunkEnd = chunk.offset + chunk.bytes.length;
      if (chunkEnd > this.written || chunkEnd > this.received - windowBytes) break;
      drop++;
    }
    if (drop > 0) window.splice(0, drop);
  }

  /**
   * Reads the upstream body with 'data' events (no promise per chunk): each chunk is hashed, kept in the window for
   * readers, and written with the others that arrived meanwhile in one writev, one write in flight. The upstream is
   * paused while more than pendingWriteBytes wait for the disk.
   */
  private copy(body: Readable): Promise<void> {
    const algorithm = this.digest.startsWith('sha512:') ? 'sha512' : 'sha256';
    const hash = createHash(algorithm);
    const handle = this.handle;
    if (handle === undefined) return Promise.reject(new Error('fill has no file'));
    return new Promise<void>((resolve, reject) => {
      let writing = false;
      let ended = false;
      let settled = false;
      let failure: Error | undefined;
      const finish = (err: Error | undefined) => {
        if (settled) return;
        settled = true;
        body.off('data', onData);
        body.off('end', onEnd);
        if (err !== undefined) {
          // A body left paused would keep its connection; nobody reads it any more.
          if (!body.destroyed) body.destroy();
          reject(err);
        } else resolve();
      };
      const fail = (err: Error) => {
        failure ??= err;
        // A write in flight settles first, so the file is never closed under it (an unhandled rejection).
        if (!writing) finish(failure);
      };
      const commit = async () => {
        if (this.size !== undefined && this.written !== this.size)
          throw new Error('upstream blob was truncated');
        const actual = `${algorithm}:${hash.digest('hex')}`;
        if (actual !== this.digest) throw new DigestMismatchError(this.digest, actual);
        await rename(this.tmpPath, this.finalPath);
        this.state = 'done';
        this.onCommitted(this.written);
        this.emit('progress');
      };
      const write = () => {
        if (writing || settled) return;
        if (failure !== undefined) {
          finish(failure);
          return;
        }
        if (this.written === this.received) {
          if (ended) {
            writing = true; // nothing else may start once the commit has
            commit().then(
              () => finish(undefined),
              (err: unknown) => finish(toError(err)),
            );
          }
          return;
        }
        const buffers: Buffer[] = [];
        let at = this.written;
        for (const chunk of this.window) {
          const chunkEnd = chunk.offset + chunk.bytes.length;
          if (chunkEnd <= at) continue;
          buffers.push(at > chunk.offset ? chunk.bytes.subarray(at - chunk.offset) : chunk.bytes);
          at = chunkEnd;
          if (buffers.length >= maxWriteBuffers) break;
        }
        writing = true;
        // A short write (rare: a signal, a nearly full disk) continues where it stopped on the next round.
        handle.writev(buffers, this.written).then(
          ({ bytesWritten }) => {
            writing = false;
            this.written += bytesWritten;
            this.trimWindow();
            if (body.isPaused() && this.received - this.written < pendingWriteBytes) body.resume();
            write();
          },
          (err: unknown) => {
            writing = false;
            fail(toError(err));
          },
        );
      };
      const onData = (chunk: Buffer) => {
        if (failure !== undefined) return;
        if (this.size !== undefined && this.received + chunk.length > this.size) {
          fail(new Error('upstream sent more bytes than its Content-Length'));
          return;
        }
        hash.update(chunk);
        noteStreamed(chunk.length);
        this.window.push({ offset: this.received, bytes: chunk });
        this.received += chunk.length;
        if (this.received - this.written >= pendingWriteBytes) body.pause();
        write();
        this.emit('progress');
      };
      const onEnd = () => {
        ended = true;
        write();
      };
      body.on('data', onData);
      body.once('end', onEnd);
      body.on('error', (err) => fail(err));
    });
  }

  private async fail(err: Error): Promise<void> {
    // A fill stopped because its last reader left has nobody to tell; anything else is the upstream's doing.
    const error = this.controller.signal.aborted ? err : (this.describeFailure?.(err) ?? err);
    this.error = error;
    this.state = 'failed';
    this.window = [];
    this.rejectReady(error);
    this.emit('progress');
    await unlink(this.tmpPath).catch(() => {});
  }

  private async maybeClose(): Promise<void> {
    if (this.readers > 0 || this.state === 'opening' || this.state === 'filling') return;
    this.window = [];
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => {});
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
