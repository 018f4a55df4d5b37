import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../cache/blob-store.js';
import { DigestMismatchError, VerifyingStream } from '../cache/verifying-stream.js';
import { type Digest, digestOf } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import { header } from '../oci/headers.js';
import { declaredLength, requireOk } from '../upstream/client.js';
import { mapTransportError } from '../upstream/errors.js';
import type { Route } from '../upstream/router.js';
import { parseRange } from './range.js';

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

export class BlobService {
  constructor(private readonly store: BlobStore) {}

  async head(route: Route, digest: Digest, signal: AbortSignal): Promise<{ size: number | undefined }> {
    const cached = this.store.lookup(digest.value);
    if (cached !== undefined) return { size: cached.size };
    const res = await route.upstream.request({
      method: 'HEAD',
      path: `/v2/${route.repository}/blobs/${digest.value}`,
      repository: route.repository,
      signal,
      followRedirects: true,
    });
    await requireOk(res, 'blob', route.upstream.host);
    await res.body.dump();
    return { size: declaredLength(res.headers) };
  }

  async get(
    route: Route,
    digest: Digest,
    rangeHeader: string | undefined,
    signal: AbortSignal,
  ): Promise<BlobAnswer> {
    const fromCache = await this.fromCache(digest.value, rangeHeader);
    if (fromCache !== undefined) return fromCache;

    const fill = this.store.fill(digest.value, async (fillSignal) => {
      const res = await route.upstream.request({
        method: 'GET',
        path: `/v2/${route.repository}/blobs/${digest.value}`,
        repository: route.repository,
        signal: fillSignal,
        followRedirects: true,
      });
      await requireOk(res, 'blob', route.upstream.host);
      return {
        size: declaredLength(res.headers),
        body: res.body,
        describeFailure: (err) => blobFillFailure(err, route.upstream.host),
      };
    });
    // Hold a reader before waiting, so a client that leaves while the upstream is slow to answer counts as gone.
    const whole = fill.createReader();
    let size: number | undefined;
    try {
      size = await raceAbort(fill.ready, signal);
    } catch (err) {
      whole.destroy();
      throw err;
    }
    const range = size === undefined ? ({ kind: 'none' } as const) : parseRange(rangeHeader, size);
    if (range.kind === 'unsatisfiable') {
      whole.destroy();
      throw unsatisfiable(size ?? 0);
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

  private async fromCache(digest: string, rangeHeader: string | undefined): Promise<BlobAnswer | undefined> {
    const cached = await this.store.lookupVerified(digest);
    if (cached === undefined) return undefined;
    const range = parseRange(rangeHeader, cached.size);
    if (range.kind === 'unsatisfiable') throw unsatisfiable(cached.size);
    const algorithm = digest.startsWith('sha512:') ? 'sha512' : 'sha256';
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

function unsatisfiable(size: number): RegistryError {
  return new RegistryError('SIZE_INVALID', 'requested range not satisfiable', {
    status: 416,
    headers: { [header.contentRange]: `bytes */${size}` },
  });
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
function blobFillFailure(err: Error, upstream: string): RegistryError {
  if (err instanceof RegistryError) return err;
  if (err instanceof DigestMismatchError) {
    return new RegistryError(
      'UNAVAILABLE',
      `upstream ${upstream} sent a blob that does not match its digest`,
      {
        status: 502,
        detail: { upstream, expected: err.expected, actual: err.actual },
        cause: err,
      },
    );
  }
  if ((err as { code?: unknown }).code !== undefined) return mapTransportError(err, upstream);
  return new RegistryError(
    'UNAVAILABLE',
    `upstream ${upstream} failed while sending the blob: ${err.message}`,
    {
      status: 502,
      detail: { upstream },
      cause: err,
    },
  );
}
