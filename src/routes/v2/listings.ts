import type { FastifyReply, FastifyRequest } from 'fastify';
import { header } from '../../oci/headers.js';
import { type ListingKind, passListing } from '../../pull/pass-listing.js';
import type { UpstreamRepository } from '../../upstream/router.js';

/**
 * tags/list and referrers, passed through. A next-page Link names the upstream's own repository path; it is
 * rewritten so the client comes back through pullgate (with its `ns`).
 */
export async function serveListing(
  request: FastifyRequest,
  reply: FastifyReply,
  asked: {
    route: UpstreamRepository;
    name: string;
    listing: ListingKind;
    ns: string | undefined;
    signal: AbortSignal;
  },
): Promise<FastifyReply> {
  const listing = await passListing(asked.route, asked.listing, {
    method: request.method === 'HEAD' ? 'HEAD' : 'GET',
    query: new URLSearchParams((request.raw.url ?? '').split('?')[1] ?? ''),
    accept: request.headers.accept,
    signal: asked.signal,
  });
  if (listing.link !== undefined) {
    const rewritten = listing.link.replace(/<([^>]*)>/, (_m, target: string) => {
      const url = new URL(target, 'http://upstream.invalid');
      const next = new URLSearchParams(url.search);
      if (asked.ns !== undefined) next.set('ns', asked.ns);
      return `</v2/${asked.name}/${asked.listing}?${next.toString()}>`;
    });
    reply.header(header.link, rewritten);
  }
  reply.type(listing.contentType ?? 'application/json');
  if (listing.contentLength !== undefined) reply.header(header.contentLength, listing.contentLength);
  return reply.send(listing.body);
}
