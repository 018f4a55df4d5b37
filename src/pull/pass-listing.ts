import type { Readable } from 'node:stream';
import { header } from '../oci/headers.js';
import { firstHeader, requireOk } from '../upstream/client.js';
import type { UpstreamRepository } from '../upstream/router.js';

export type ListingKind = 'tags/list' | `referrers/${string}`;

export interface Listing {
  body: Readable;
  contentType: string | undefined;
  contentLength: string | undefined;
  /** The upstream's next-page Link, as it sent it (it names the upstream's own repository path). */
  link: string | undefined;
}

/**
 * tags/list and referrers: listings pullgate neither judges nor caches, asked of the upstream with the client's
 * query (pullgate's own `ns` taken out) and passed through.
 */
export async function passListing(
  route: UpstreamRepository,
  listing: ListingKind,
  ask: { method: 'GET' | 'HEAD'; query: URLSearchParams; accept: string | undefined; signal: AbortSignal },
): Promise<Listing> {
  const params = new URLSearchParams();
  for (const [key, value] of ask.query) if (key !== 'ns') params.append(key, value);
  const qs = params.toString();
  const res = await route.upstream.request({
    method: ask.method,
    path: `/v2/${route.repository}/${listing}${qs ? `?${qs}` : ''}`,
    repository: route.repository,
    headers: ask.accept ? { accept: ask.accept } : {},
    signal: ask.signal,
  });
  await requireOk(res, listing === 'tags/list' ? 'tags' : 'manifest', route.upstream.name);
  return {
    body: res.body,
    contentType: firstHeader(res.headers[header.contentType]),
    contentLength: firstHeader(res.headers[header.contentLength]),
    link: firstHeader(res.headers[header.link]),
  };
}
