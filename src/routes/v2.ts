import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../oci/errors.js';
import { distributionApiVersion, header } from '../oci/headers.js';
import type { ManifestBytes } from '../oci/manifest.js';
import { parseRegistryPath } from '../oci/reference.js';
import type { Metrics } from '../plugins/metrics.js';
import type { BlobService } from '../pull/blob-service.js';
import { pullBlob } from '../pull/pull-blob.js';
import { type PulledManifest, type PullManifestDependencies, pullManifest } from '../pull/pull-manifest.js';
import { firstHeader, requireOk } from '../upstream/client.js';
import type { UpstreamRepository, UpstreamRouter } from '../upstream/router.js';
import { sendRegistryError } from './registry-error-handler.js';
import { clientSignal } from './request-signal.js';

export interface V2Dependencies {
  router: UpstreamRouter;
  /** What a manifest pull needs (pull/pull-manifest.ts); its recorder also records refused blobs. */
  pull: PullManifestDependencies;
  blobs: BlobService;
  metrics: Metrics;
  /** Who is pulling: undefined for anonymous. Throws UNAUTHORIZED when credentials are required. */
  authenticate: (request: FastifyRequest) => Promise<string | undefined>;
}

interface Query {
  ns?: string;
  n?: string;
  last?: string;
}

function pathAfterV2(request: FastifyRequest): string {
  const url = request.raw.url ?? '';
  const path = url.split('?', 1)[0] ?? '';
  return path.replace(/^\/v2\//, '');
}

function warningHeader(text: string): string {
  // RFC 7234 §5.5 warn-text is a quoted-string; OCI distribution uses warn-code 299 for registry warnings.
  return `299 - "${text.replace(/["\\]/g, "'").replace(/[\r\n]+/g, ' ')}"`;
}

/** The /v2/ registry API: pulls served through the proxy, writes refused (pullgate is a read-only mirror). */
export async function v2Routes(app: FastifyInstance, deps: V2Dependencies): Promise<void> {
  app.setErrorHandler((err, request, reply) => sendRegistryError(err, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendRegistryError(new RegistryError('NAME_UNKNOWN', 'unknown registry endpoint'), request, reply),
  );
  app.addHook('onSend', async (_request, reply) => {
    reply.header(header.dockerDistributionApiVersion, distributionApiVersion);
  });
  // pullgate reads no request body here (every write is refused): a body is never parsed, so a malformed one
  // cannot turn a 405 UNSUPPORTED into a parser error.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  app.get('/v2/', async (request, reply) => {
    await deps.authenticate(request);
    return reply.type('application/json').send('{}');
  });
  app.head('/v2/', async (request, reply) => {
    await deps.authenticate(request);
    return reply.type('application/json').header(header.contentLength, '2').send();
  });

  const handler = async (request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply) => {
    const user = await deps.authenticate(request);
    const head = request.method === 'HEAD';
    const path = parseRegistryPath(pathAfterV2(request));
    if (path === undefined) throw new RegistryError('NAME_UNKNOWN', 'unknown registry endpoint');
    const ns = request.query.ns;
    const route = deps.router.route(path.name, ns);
    const signal = clientSignal(request, reply);
    switch (path.kind) {
      case 'manifest': {
        const pulled = await pullManifest(deps.pull, {
          requestId: request.id,
          route,
          name: path.name,
          reference: path.reference,
          method: head ? 'HEAD' : 'GET',
          accept: request.headers.accept,
          client: { address: request.ip, user, userAgent: request.headers['user-agent'] },
          signal,
          log: request.log,
        });
        return replyManifest(deps, reply, pulled, head);
      }
      case 'blob': {
        if (head) {
          const { size } = await deps.blobs.head(route, path.digest, signal);
          reply.header(header.dockerContentDigest, path.digest.value).type('application/octet-stream');
          if (size !== undefined) reply.header(header.contentLength, String(size));
          reply.header(header.acceptRanges, 'bytes');
          return reply.send();
        }
        const answer = await pullBlob(
          { blobs: deps.blobs, recorder: deps.pull.recorder },
          {
            requestId: request.id,
            route,
            digest: path.digest,
            range: request.headers.range,
            client: { address: request.ip, user, userAgent: request.headers['user-agent'] },
            signal,
          },
        );
        deps.metrics.blobRequests.inc({ result: answer.source === 'cache' ? 'hit' : 'miss' });
        deps.metrics.bytesServed.inc(
          { kind: 'blob', source: answer.source },
          Number(answer.headers[header.contentLength] ?? 0),
        );
        return reply
          .code(answer.status)
          .headers(answer.headers)
          .header(header.dockerContentDigest, path.digest.value)
          .header(header.acceptRanges, 'bytes')
          .type('application/octet-stream')
          .send(answer.body);
      }
      case 'tags':
        return passThroughListing('tags/list', route, path.name, request, reply, signal);
      case 'referrers':
        return passThroughListing(`referrers/${path.digest.value}`, route, path.name, request, reply, signal);
      case 'uploads':
        throw new RegistryError('UNSUPPORTED', 'pullgate is a read-only pull-through proxy');
    }
  };
  app.get('/v2/*', handler);
  app.head('/v2/*', handler);

  const refuseWrite = async (request: FastifyRequest, reply: FastifyReply) =>
    sendRegistryError(
      new RegistryError(
        'UNSUPPORTED',
        'pullgate is a read-only pull-through proxy: push to the upstream registry',
      ),
      request,
      reply,
    );
  app.route({ method: ['PUT', 'POST', 'PATCH', 'DELETE'], url: '/v2/*', handler: refuseWrite });
  app.route({ method: ['PUT', 'POST', 'PATCH', 'DELETE'], url: '/v2/', handler: refuseWrite });
}

/** The answer to a manifest pull, from what the use case decided (the OCI envelope is made here, at the edge). */
function replyManifest(
  deps: V2Dependencies,
  reply: FastifyReply,
  pulled: PulledManifest,
  head: boolean,
): FastifyReply {
  switch (pulled.kind) {
    case 'refused':
      throw new RegistryError('DENIED', pulled.message, {
        detail: { reference: pulled.reference, digest: pulled.digest, findings: pulled.findings },
      });
    case 'refuse-on-get':
      return describeManifest(reply, pulled.manifest)
        .header(header.warning, warningHeader(`refused on GET: ${pulled.message}`))
        .send();
    case 'serve': {
      const { manifest, source, warnings } = pulled;
      describeManifest(reply, manifest).header(header.etag, `"${manifest.digest}"`);
      if (warnings.length > 0) reply.header(header.warning, warnings.map(warningHeader));
      if (head) return reply.send();
      deps.metrics.bytesServed.inc({ kind: 'manifest', source }, manifest.bytes.length);
      return reply.send(manifest.bytes);
    }
  }
}

/** The headers that describe a manifest's exact bytes (distribution-spec: HEAD answers them as GET would). */
function describeManifest(reply: FastifyReply, manifest: ManifestBytes): FastifyReply {
  return reply
    .header(header.contentType, manifest.mediaType)
    .header(header.contentLength, String(manifest.bytes.length))
    .header(header.dockerContentDigest, manifest.digest);
}

/**
 * tags/list and referrers pass through with their query: listings pullgate neither judges nor caches. A
 * next-page Link names the upstream's own repository path; it is rewritten so the client comes back through
 * pullgate.
 */
async function passThroughListing(
  listing: 'tags/list' | `referrers/${string}`,
  route: UpstreamRepository,
  name: string,
  request: FastifyRequest<{ Querystring: Query }>,
  reply: FastifyReply,
  signal: AbortSignal,
): Promise<FastifyReply> {
  const params = new URLSearchParams();
  const raw = new URLSearchParams((request.raw.url ?? '').split('?')[1] ?? '');
  for (const [key, value] of raw) if (key !== 'ns') params.append(key, value);
  const qs = params.toString();
  const res = await route.upstream.request({
    method: request.method === 'HEAD' ? 'HEAD' : 'GET',
    path: `/v2/${route.repository}/${listing}${qs ? `?${qs}` : ''}`,
    repository: route.repository,
    headers: request.headers.accept ? { accept: request.headers.accept } : {},
    signal,
  });
  await requireOk(res, listing === 'tags/list' ? 'tags' : 'manifest', route.upstream.name);
  const link = firstHeader(res.headers[header.link]);
  if (link !== undefined) {
    const ns = request.query.ns;
    const rewritten = link.replace(/<([^>]*)>/, (_m, target: string) => {
      const url = new URL(target, 'http://upstream.invalid');
      const next = new URLSearchParams(url.search);
      if (ns !== undefined) next.set('ns', ns);
      return `</v2/${name}/${listing}?${next.toString()}>`;
    });
    reply.header(header.link, rewritten);
  }
  const type = firstHeader(res.headers[header.contentType]) ?? 'application/json';
  reply.type(type);
  const length = firstHeader(res.headers[header.contentLength]);
  if (length !== undefined) reply.header(header.contentLength, length);
  return reply.send(res.body);
}
