import { algorithmOf, digestOf } from '../oci/digest.js';
import { header } from '../oci/headers.js';
import { declaredLength, firstHeader, requireOk, type UpstreamResponse } from './client.js';
import { isAbortError, mapTransportError, type Subject, UpstreamError } from './errors.js';
import { BodyTooLargeError, readBounded, tooLargeFromUpstream } from './read-bounded.js';
import type { UpstreamRepository } from './router.js';

export interface VerifiedFetch {
  /** Upstream path, e.g. `/v2/library/app/manifests/sha256:...`. */
  path: string;
  subject: Subject;
  /** What the bytes are, for error messages: `manifest`, `image config`. */
  what: string;
  limit: number;
  signal: AbortSignal;
  /** The digest the bytes must have; else the upstream's Docker-Content-Digest, when it sent one. */
  expected: string | undefined;
  accept?: string;
  followRedirects?: boolean;
}

/**
 * One small document from the upstream (a manifest, an image config): read whole with a byte bound and checked
 * against its digest before anything uses it. The digest is of the exact bytes (image-spec descriptor.md);
 * bytes that do not match are never used, and the client gets a 502.
 */
export async function fetchVerified(
  route: UpstreamRepository,
  request: VerifiedFetch,
): Promise<{ bytes: Buffer; digest: string; headers: UpstreamResponse['headers'] }> {
  // Named in messages as people know it (the default upstream by its own host unless it is Docker Hub).
  const host = route.upstream.name;
  const res = await route.upstream.request({
    method: 'GET',
    path: request.path,
    repository: route.repository,
    signal: request.signal,
    ...(request.accept !== undefined ? { headers: { accept: request.accept } } : {}),
    ...(request.followRedirects === true ? { followRedirects: true } : {}),
  });
  await requireOk(res, request.subject, host);
  let bytes: Buffer;
  try {
    bytes = await readBounded(res.body, request.limit, declaredLength(res.headers));
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw tooLargeFromUpstream(request.what, err.limit, host);
    // The client leaving is not the upstream's fault; anything else that cuts the body (a reset, a short body, a
    // body timeout) is, and is a 502/504 naming the upstream rather than a bare 500.
    if (isAbortError(err) || request.signal.aborted) throw err;
    throw mapTransportError(err, host);
  }
  const claimed = request.expected ?? firstHeader(res.headers[header.dockerContentDigest]);
  const actual = digestOf(bytes, claimed === undefined ? 'sha256' : algorithmOf(claimed));
  if (claimed !== undefined && actual !== claimed) {
    throw new UpstreamError(
      'bad-answer',
      `upstream ${host} sent ${request.what} bytes that do not match their digest`,
      {
        detail: { upstream: host, expected: claimed, actual },
      },
    );
  }
  return { bytes, digest: actual, headers: res.headers };
}
