import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { BlobStore } from '../cache/blob-store.js';
import { VerifyingStream } from '../cache/verifying-stream.js';
import { type Digest, digestOf } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import { header } from '../oci/headers.js';
import { firstHeader } from '../upstream/client.js';
import { mapUpstreamStatus } from '../upstream/errors.js';
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
    await res.body.dump();
    if (res.status !== 200) {
      throw mapUpstreamStatus(
        res.status,
        'blob',
        route.upstream.host,
        firstHeader(res.headers[header.retryAfter]),
      );
    }
    const length = Number(firstHeader(res.headers[header.contentLength]) ?? Number.NaN);
    return { size: Number.isFinite(length) ? length : undefined };
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
      if (res.status !== 200) {
        await res.body.dump();
        throw mapUpstreamStatus(
          res.status,
          'blob',
          route.upstream.host,
          firstHeader(res.headers[header.retryAfter]),
        );
      }
      const length = Number(firstHeader(res.headers[header.contentLength]) ?? Number.NaN);
      return { size: Number.isFinite(length) ? length : undefined, body: res.body };
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
    const cached = this.store.lookup(digest);
    if (cached === undefined) return undefined;
    void this.store.touch(digest);
    const range = parseRange(rangeHeader, cached.size);
    if (range.kind === 'unsatisfiable') throw unsatisfiable(cached.size);
    if (range.kind === 'range') {
      return this.partial(
        this.store.openCached(digest, range.start, range.end),
        range.start,
        range.end,
        cached.size,
        'cache',
      );
    }
    const headers = { [header.contentLength]: String(cached.size) };
    if (cached.size <= verifyBeforeServingBytes) {
      const bytes = await readFile(cached.path).catch(() => undefined);
      if (
        bytes === undefined ||
        digestOf(bytes, digest.startsWith('sha512:') ? 'sha512' : 'sha256') !== digest
      ) {
        await this.store.discard(digest);
        return undefined;
      }
      return { status: 200, size: cached.size, headers, body: Readable.from([bytes]), source: 'cache' };
    }
    const verifying = new VerifyingStream(digest, () => {
      void this.store.discard(digest);
    });
    const file = this.store.openCached(digest);
    file.on('error', (err) => verifying.destroy(err));
    return { status: 200, size: cached.size, headers, body: file.pipe(verifying), source: 'cache' };
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
