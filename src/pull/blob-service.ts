import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LRUCache } from 'lru-cache';
import { sniffBlob } from '../cache/blob-sniff.js';
import { type BlobStore, CacheFullError } from '../cache/blob-store.js';
import { DigestMismatchError, VerifyingStream } from '../cache/verifying-stream.js';
import { algorithmOf, type Digest, digestOf } from '../oci/digest.js';
import { header } from '../oci/headers.js';
import { parseRange } from '../oci/range.js';
import { declaredLength, requireOk } from '../upstream/client.js';
import { mapTransportError, UpstreamError } from '../upstream/errors.js';
import type { UpstreamRepository } from '../upstream/router.js';
import type { ConfigScreen, ScreenClient, ScreenVerdict } from './config-screen.js';
import { BlobRefusedError, RangeNotSatisfiableError } from './errors.js';

export interface BlobAnswer {
  status: 200 | 206;
  /** Size of the whole blob, when known. */
  size: number | undefined;
  headers: Record<string, string>;
  body: Readable;
  source: 'cache' | 'upstream';
}

// Small blobs (image configs, small layers) are verified whole before a byte goes out, so a corrupt cache file
// is simply fetched again; larger ones are verified as they stream (VerifyingStream).
const verifyBeforeServingBytes = 1024 * 1024;
const MAX_REMEMBERED_KINDS = 100_000;

/** Thrown by a fill whose bytes may not go to the shared cache: each request then judges them for its client. */
class ScreenedBlob extends Error {
  constructor(
    readonly bytes: Buffer | undefined,
    readonly verdict: Extract<ScreenVerdict, { kind: 'refuse' }>,
  ) {
    super('blob held back from the cache by the config screen');
    this.name = 'ScreenedBlob';
  }
}

export interface BlobServiceOptions {
  /** Judges blobs that may be image configs (issue 10, path 1); without it every blob is served. */
  screen?: ConfigScreen;
  /** The largest JSON blob read into memory to be judged (PULLGATE_CONFIG_MAX_BYTES). */
  screenMaxBytes?: number;
}

export class BlobService {
  private readonly screen: ConfigScreen | undefined;
  private readonly screenMaxBytes: number;
  /** Digest → whether its blob opens a JSON object (see isDocument). */
  private readonly documents = new LRUCache<string, boolean>({ max: MAX_REMEMBERED_KINDS });

  constructor(
    private readonly store: BlobStore,
    options: BlobServiceOptions = {},
  ) {
    this.screen = options.screen;
    this.screenMaxBytes = options.screenMaxBytes ?? 8 * 1024 * 1024;
  }

  async head(
    route: UpstreamRepository,
    digest: Digest,
    signal: AbortSignal,
  ): Promise<{ size: number | undefined }> {
    const cached = this.store.lookup(digest.value);
    if (cached !== undefined) return { size: cached.size };
    const res = await route.upstream.request({
      method: 'HEAD',
      path: `/v2/${route.repository}/blobs/${digest.value}`,
      repository: route.repository,
      signal,
      followRedirects: true,
    });
    await requireOk(res, 'blob', route.upstream.name);
    await res.body.dump();
    return { size: declaredLength(res.headers) };
  }

  async get(
    route: UpstreamRepository,
    digest: Digest,
    rangeHeader: string | undefined,
    signal: AbortSignal,
    client: ScreenClient,
  ): Promise<BlobAnswer> {
    const fromCache = await this.fromCache(route, digest, rangeHeader, client);
    if (fromCache !== undefined) return fromCache;

    const fill = this.store.fill(digest.value, async (fillSignal) => {
      const res = await route.upstream.request({
        method: 'GET',
        path: `/v2/${route.repository}/blobs/${digest.value}`,
        repository: route.repository,
        signal: fillSignal,
        followRedirects: true,
      });
      await requireOk(res, 'blob', route.upstream.name);
      const size = declaredLength(res.headers);
      const describeFailure = (err: Error) => blobFillFailure(err, route.upstream.name);
      if (this.screen === undefined) return { size, body: res.body, describeFailure };
      let screened: Buffer | undefined;
      try {
        screened = await this.screenForCache(route, digest, res.body, size);
      } catch (err) {
        // Read before the fill streams (a reset, a short body, a digest mismatch): mapped like a fill's failure.
        throw err instanceof Error ? describeFailure(err) : err;
      }
      return screened === undefined
        ? { size, body: res.body, describeFailure }
        : { size: screened.length, body: Readable.from([screened]), describeFailure };
    });
    // Hold a reader before waiting, so a client that leaves while the upstream is slow to answer counts as gone.
    const whole = fill.createReader();
    let size: number | undefined;
    try {
      size = await raceAbort(fill.ready, signal);
    } catch (err) {
      whole.destroy();
      if (err instanceof ScreenedBlob) return this.screenedAnswer(route, digest, err, rangeHeader, client);
      throw err;
    }
    const range = size === undefined ? ({ kind: 'none' } as const) : parseRange(rangeHeader, size);
    if (range.kind === 'unsatisfiable') {
      whole.destroy();
      throw new RangeNotSatisfiableError(size ?? 0);
    }
    if (range.kind === 'range') {
      const partial = fill.createReader(range.start, range.end);
      whole.destroy();
      return this.partial(partial, range.start, range.end, size ?? 0, 'upstream');
    }
    const headers: Record<string, string> = {};
    if (size !== undefined) headers[header.contentLength] = String(size);
    return { status: 200, size, headers, body: whole, source: 'upstream' };
  }

  /**
   * Decides, once per fill and for every client at once, whether a blob may be written to the shared cache: a
   * layer may; a JSON document only when no client could be refused it (the strictest reading of every policy
   * for the repository, whatever the tag and client). Returns the document's bytes when it may be cached (the
   * fill writes them), undefined for a layer (the body streams on), or throws ScreenedBlob: nothing is written,
   * and each request judges the bytes for its own client.
   */
  private async screenForCache(
    route: UpstreamRepository,
    digest: Digest,
    body: Readable,
    size: number | undefined,
  ): Promise<Buffer | undefined> {
    const screen = this.screen;
    if (screen === undefined) return undefined;
    const sniffed = await sniffBlob(body, this.screenMaxBytes, size);
    switch (sniffed.kind) {
      case 'binary':
        return undefined;
      case 'too-large': {
        const verdict = screen.tooLargeToJudge(route, undefined, this.screenMaxBytes);
        if (verdict.kind === 'pass') return undefined;
        body.destroy();
        throw new ScreenedBlob(undefined, verdict);
      }
      case 'document': {
        const actual = digestOf(sniffed.bytes, digest.algorithm);
        if (actual !== digest.value) throw new DigestMismatchError(digest.value, actual);
        const verdict = await screen.screen(route, digest.value, sniffed.bytes, undefined);
        if (verdict.kind === 'refuse') throw new ScreenedBlob(sniffed.bytes, verdict);
        return sniffed.bytes;
      }
    }
  }

  /** A blob held back from the cache, judged for this client: refused, or served from memory and not kept. */
  private async screenedAnswer(
    route: UpstreamRepository,
    digest: Digest,
    held: ScreenedBlob,
    rangeHeader: string | undefined,
    client: ScreenClient,
  ): Promise<BlobAnswer> {
    // Too large to hold: its bytes are gone, so the refusal stands for every client (fail closed).
    if (held.bytes === undefined || this.screen === undefined)
      throw new BlobRefusedError(digest, held.verdict, 'upstream');
    const verdict = await this.screen.screen(route, digest.value, held.bytes, client);
    if (verdict.kind === 'refuse') throw new BlobRefusedError(digest, verdict, 'upstream');
    return this.fromMemory(held.bytes, rangeHeader, 'upstream');
  }

  private fromMemory(
    bytes: Buffer,
    rangeHeader: string | undefined,
    source: 'cache' | 'upstream',
  ): BlobAnswer {
    const range = parseRange(rangeHeader, bytes.length);
    if (range.kind === 'unsatisfiable') throw new RangeNotSatisfiableError(bytes.length);
    if (range.kind === 'range') {
      const part = Readable.from([bytes.subarray(range.start, range.end + 1)]);
      return this.partial(part, range.start, range.end, bytes.length, source);
    }
    return {
      status: 200,
      size: bytes.length,
      headers: { [header.contentLength]: String(bytes.length) },
      body: Readable.from([bytes]),
      source,
    };
  }

  /**
   * Whether a cached blob opens a JSON object (a possible image config). Read from the file's first bytes, and
   * remembered per digest once the file is verified: the answer belongs to the digest, so a small layer's cache hit
   * costs no extra open after the first.
   */
  private async isDocument(digest: string, cached: { path: string; verified: boolean }): Promise<boolean> {
    const known = this.documents.get(digest);
    if (known !== undefined && cached.verified) return known;
    const document = await startsLikeJson(cached.path);
    if (cached.verified) this.documents.set(digest, document);
    return document;
  }

  private async fromCache(
    route: UpstreamRepository,
    digestOfBlob: Digest,
    rangeHeader: string | undefined,
    client: ScreenClient,
  ): Promise<BlobAnswer | undefined> {
    const digest = digestOfBlob.value;
    const cached = await this.store.lookupVerified(digest);
    if (cached === undefined) return undefined;
    if (this.screen !== undefined && (await this.isDocument(digest, cached))) {
      if (cached.size > this.screenMaxBytes) {
        // Cached while no rule was enforced (a document this large cannot be judged): judged for this client now.
        const verdict = this.screen.tooLargeToJudge(route, client, this.screenMaxBytes);
        if (verdict.kind === 'refuse') throw new BlobRefusedError(digestOfBlob, verdict, 'cache');
      } else {
        // A JSON document on disk is judged on every request (policies change; the client matters), from verified
        // bytes: a changed file is a miss.
        const bytes = await readFile(cached.path).catch(() => undefined);
        if (bytes === undefined || (!cached.verified && digestOf(bytes, digestOfBlob.algorithm) !== digest)) {
          await this.store.discard(digest);
          return undefined;
        }
        const verdict = await this.screen.screen(route, digest, bytes, client);
        if (verdict.kind === 'refuse') throw new BlobRefusedError(digestOfBlob, verdict, 'cache');
        if (!cached.verified) void this.store.markVerified(digest);
        return this.fromMemory(bytes, rangeHeader, 'cache');
      }
    }
    const range = parseRange(rangeHeader, cached.size);
    if (range.kind === 'unsatisfiable') throw new RangeNotSatisfiableError(cached.size);
    const algorithm = algorithmOf(digest);
    if (range.kind === 'range') {
      // A part cannot be checked on its own: a file not known to be intact is hashed whole first (once).
      if (!cached.verified && !(await this.verifyWhole(digest, cached.path, algorithm))) return undefined;
      const body = this.store.openCached(digest, range.start, range.end);
      return this.partial(body, range.start, range.end, cached.size, 'cache');
    }
    const headers = { [header.contentLength]: String(cached.size) };
    if (cached.verified) {
      return {
        status: 200,
        size: cached.size,
        headers,
        body: this.store.openCached(digest),
        source: 'cache',
      };
    }
    if (cached.size <= verifyBeforeServingBytes) {
      const bytes = await readFile(cached.path).catch(() => undefined);
      if (bytes === undefined || digestOf(bytes, algorithm) !== digest) {
        await this.store.discard(digest);
        return undefined;
      }
      void this.store.markVerified(digest);
      return { status: 200, size: cached.size, headers, body: Readable.from([bytes]), source: 'cache' };
    }
    // Verified while it streams, the last chunk held back: a mismatch cuts the transfer and drops the file.
    const verifying = new VerifyingStream(digest, () => {
      void this.store.discard(digest);
    });
    verifying.once('end', () => void this.store.markVerified(digest));
    const file = this.store.openCached(digest);
    // pipeline(), not pipe(): a client that leaves must also close the file, or it stays open and the blob
    // counts as being read (and is never evicted).
    pipeline(file, verifying).catch(() => undefined);
    return { status: 200, size: cached.size, headers, body: verifying, source: 'cache' };
  }

  private async verifyWhole(digest: string, path: string, algorithm: 'sha256' | 'sha512'): Promise<boolean> {
    const hash = createHash(algorithm);
    try {
      for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
        hash.update(chunk as Buffer);
    } catch {
      await this.store.discard(digest);
      return false;
    }
    if (`${algorithm}:${hash.digest('hex')}` !== digest) {
      await this.store.discard(digest);
      return false;
    }
    await this.store.markVerified(digest);
    return true;
  }

  private partial(
    body: Readable,
    start: number,
    end: number,
    size: number,
    source: 'cache' | 'upstream',
  ): BlobAnswer {
    return {
      status: 206,
      size,
      headers: {
        [header.contentLength]: String(end - start + 1),
        [header.contentRange]: `bytes ${start}-${end}/${size}`,
      },
      body,
      source,
    };
  }
}

/** Whether a cached file's first significant byte opens a JSON object (a possible image config). */
async function startsLikeJson(path: string): Promise<boolean> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const head = Buffer.alloc(64);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
    while (i < bytesRead && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09))
      i++;
    return i >= bytesRead || head[i] === 0x7b;
  } catch {
    // Unreadable: read it whole and judge it, rather than skip the screen.
    return true;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * What a client whose answer has not started is told when a fill fails while the upstream's body streams: a
 * 502 naming the upstream (504 for a timeout), never the internal error. A client already receiving the blob
 * has its connection cut instead (the status line is long gone).
 */
function blobFillFailure(err: Error, upstream: string): Error {
  if (err instanceof UpstreamError || err instanceof CacheFullError || err instanceof ScreenedBlob)
    return err;
  if (err instanceof DigestMismatchError) {
    return new UpstreamError(
      'bad-answer',
      `upstream ${upstream} sent a blob that does not match its digest`,
      {
        subject: 'blob',
        detail: { upstream, expected: err.expected, actual: err.actual },
        cause: err,
      },
    );
  }
  if ((err as { code?: unknown }).code !== undefined) return mapTransportError(err, upstream);
  return new UpstreamError(
    'bad-answer',
    `upstream ${upstream} failed while sending the blob: ${err.message}`,
    {
      subject: 'blob',
      detail: { upstream },
      cause: err,
    },
  );
}
