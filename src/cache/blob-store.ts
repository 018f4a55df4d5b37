import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, statfs, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BlobFill, type OpenUpstreamBlob } from './blob-fill.js';
import { noteStreamed } from './streamed.js';

interface IndexEntry {
  size: number;
  lastUsed: number;
  /** Open readers; a blob being served is not evicted under them. */
  readers: number;
  /**
   * The file's mtime when its bytes were last hashed and found right (by the fill that wrote it, or by a full
   * read). A file whose mtime still matches is served without hashing again; any write to it changes the mtime,
   * so a file changed on disk is verified (and, if wrong, discarded) before it is served again. Whole
   * milliseconds (see mtimeKey).
   */
  verifiedMtimeMs?: number;
}

// The mtime as verification compares it: whole milliseconds. The LRU touch (utimes) cannot put back a fresh file's
// sub-millisecond mtime, so compared exactly, the first warm hit's touch made every verified blob count as changed,
// and the next read hashed all of it again.
const mtimeKey = (mtimeMs: number): number => Math.trunc(mtimeMs);
// The mtime the touch writes back: exactly its whole millisecond. utimes takes seconds as a double and the kernel
// keeps whole microseconds, truncated, so `ms / 1000` lands a microsecond below its millisecond about half the time
// (and each touch would move it down); half a microsecond above lands on it.
const touchedMtime = (mtimeMs: number): number => mtimeKey(mtimeMs) / 1000 + 5e-7;

export interface CachedBlob {
  path: string;
  size: number;
  /** The file is unchanged since it was verified (see IndexEntry.verifiedMtimeMs). */
  verified: boolean;
}

// Room kept beyond the blob itself: a fill's temp file is written in pieces of up to 1 MiB.
const roomMarginBytes = 1024 * 1024;

/**
 * Content-addressed blobs on local disk: `<dir>/blobs/<algorithm>/<encoded>`. Written only through a verified
 * fill, evicted least-recently-used beyond `maxBytes`, and rebuilt from the directory on start.
 */
export class BlobStore {
  private readonly index = new Map<string, IndexEntry>();
  private readonly fills = new Map<string, BlobFill>();
  private totalBytes = 0;
  private evicted = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  async init(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    for (const algorithm of ['sha256', 'sha512']) {
      const dir = join(this.dir, 'blobs', algorithm);
      await mkdir(dir, { recursive: true });
      for (const name of await readdir(dir)) {
        const info = await stat(join(dir, name)).catch(() => undefined);
        if (info?.isFile() !== true) continue;
        // LRU order survives restarts through atime (lookupVerified() sets it); nothing found on disk counts as verified.
        this.index.set(`${algorithm}:${name}`, { size: info.size, lastUsed: info.atimeMs, readers: 0 });
        this.totalBytes += info.size;
      }
    }
    await this.evict();
  }

  lookup(digest: string): CachedBlob | undefined {
    const entry = this.index.get(digest);
    if (entry === undefined) return undefined;
    entry.lastUsed = Date.now();
    return { path: this.pathFor(digest), size: entry.size, verified: false };
  }

  /**
   * Like lookup, for serving: tells whether the file is unchanged since it was verified, and marks it used on
   * disk — one stat per hit. The atime carries LRU order across restarts (init() reads it back); the mtime is
   * kept (to the millisecond, see mtimeKey), since it is what tells a verified file from a changed one.
   */
  async lookupVerified(digest: string): Promise<CachedBlob | undefined> {
    const found = this.lookup(digest);
    const entry = this.index.get(digest);
    if (found === undefined || entry === undefined) return undefined;
    const info = await stat(found.path).catch(() => undefined);
    if (info === undefined) {
      await this.discard(digest);
      return undefined;
    }
    void utimes(found.path, new Date(), touchedMtime(info.mtimeMs)).catch(() => {});
    return {
      ...found,
      verified: info.size === entry.size && mtimeKey(info.mtimeMs) === entry.verifiedMtimeMs,
    };
  }

  /** Records that a full read hashed the file and found it right. */
  async markVerified(digest: string): Promise<void> {
    const entry = this.index.get(digest);
    const info = await stat(this.pathFor(digest)).catch(() => undefined);
    if (entry !== undefined && info !== undefined) entry.verifiedMtimeMs = mtimeKey(info.mtimeMs);
  }

  /** A stream of a cached blob's bytes; the blob is protected from eviction until the stream closes. */
  openCached(digest: string, start?: number, end?: number): Readable {
    const entry = this.index.get(digest);
    if (entry !== undefined) entry.readers++;
    const stream = createReadStream(this.pathFor(digest), { start, end, highWaterMark: 256 * 1024 });
    stream.once('close', () => {
      if (entry !== undefined) entry.readers--;
    });
    stream.on('data', (chunk) => noteStreamed(chunk.length));
    return stream;
  }

  /** Stores a small blob already held and verified in memory (an image config that was judged and allowed). */
  async put(digest: string, bytes: Buffer): Promise<void> {
    if (this.index.has(digest) || this.fills.has(digest)) return;
    const tmp = join(this.tmpDir, randomUUID());
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, this.pathFor(digest));
    } catch (err) {
      // A write cut short (ENOSPC) must not leave a partial file behind in tmp/.
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    if (this.index.has(digest)) return;
    this.index.set(digest, { size: bytes.length, lastUsed: Date.now(), readers: 0 });
    this.totalBytes += bytes.length;
    await this.markVerified(digest);
    await this.evict();
  }

  /** Drops a cached blob found to be corrupt, so the next request fetches it again. */
  async discard(digest: string): Promise<void> {
    const entry = this.index.get(digest);
    if (entry === undefined) return;
    this.index.delete(digest);
    this.totalBytes -= entry.size;
    await unlink(this.pathFor(digest)).catch(() => {});
  }

  /** The in-flight fill for a digest, or a new one started with `openUpstream` (also in place of an abandoned one). */
  fill(digest: string, openUpstream: OpenUpstreamBlob): BlobFill {
    const existing = this.fills.get(digest);
    if (existing !== undefined && !existing.abandoned) return existing;
    const fill = new BlobFill(
      digest,
      join(this.tmpDir, randomUUID()),
      this.pathFor(digest),
      (size) => {
        // An abandoned fill whose upstream had already sent everything can still commit beside its successor:
        // the same verified bytes, renamed over the same path, counted once.
        if (!this.index.has(digest)) {
          this.index.set(digest, { size, lastUsed: Date.now(), readers: 0 });
          this.totalBytes += size;
        }
        void this.markVerified(digest);
        void this.evict();
      },
      () => {
        if (this.fills.get(digest) === fill) this.fills.delete(digest);
      },
    );
    this.fills.set(digest, fill);
    void fill.run(async (signal) => {
      const blob = await openUpstream(signal);
      await this.requireRoom(blob);
      return blob;
    });
    return fill;
  }

  /** What /metrics reports: bytes and blobs on disk, and blobs evicted since start. */
  get usage(): { bytes: number; blobs: number; evictions: number } {
    return { bytes: this.totalBytes, blobs: this.index.size, evictions: this.evicted };
  }

  /**
   * A fill is answered 200 as soon as the upstream answers, and a write that then fails (ENOSPC) can only cut the
   * transfer. So the free space is checked first: a disk without room for the blob is a 503 before any byte goes
   * out, not a cut transfer. (A disk that fills up during the transfer still cuts it.)
   */
  private async requireRoom(blob: { size: number | undefined; body: Readable }): Promise<void> {
    const info = await statfs(this.tmpDir).catch(() => undefined);
    if (info === undefined) return;
    const free = info.bavail * info.bsize;
    if (free >= (blob.size ?? 0) + roomMarginBytes) return;
    // Destroying an undici body emits an AbortError: nobody reads it any more, so it is not an unhandled 'error'.
    blob.body.on('error', () => {});
    blob.body.destroy();
    throw new CacheFullError(free, blob.size);
  }

  private async evict(): Promise<void> {
    if (this.totalBytes <= this.maxBytes) return;
    const candidates = [...this.index.entries()]
      .filter(([, e]) => e.readers === 0)
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [digest, entry] of candidates) {
      if (this.totalBytes <= this.maxBytes) break;
      // Another eviction may have taken it while this one awaited an unlink.
      if (this.index.get(digest) !== entry || entry.readers > 0) continue;
      this.index.delete(digest);
      this.totalBytes -= entry.size;
      this.evicted++;
      await unlink(this.pathFor(digest)).catch(() => {});
    }
  }

  private get tmpDir(): string {
    return join(this.dir, 'tmp');
  }

  private pathFor(digest: string): string {
    const colon = digest.indexOf(':');
    return join(this.dir, 'blobs', digest.slice(0, colon), digest.slice(colon + 1));
  }
}

/** The cache's disk has no room for a blob before its first byte: the client is told 503, nothing was sent. */
export class CacheFullError extends Error {
  constructor(
    readonly freeBytes: number,
    readonly blobBytes: number | undefined,
  ) {
    super('the blob cache has no room for this blob');
    this.name = 'CacheFullError';
  }
}
