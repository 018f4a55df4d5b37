import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../../oci/errors.js';
import { distributionApiVersion, header } from '../../oci/headers.js';
import { parseRegistryPath } from '../../oci/reference.js';
import type { Metrics } from '../../plugins/metrics.js';
import type { BlobService } from '../../pull/blob-service.js';
import type { PullManifestDependencies } from '../../pull/pull-manifest.js';
import type { UpstreamRouter } from '../../upstream/router.js';
import { sendRegistryError } from '../registry-error-handler.js';
import { clientSignal } from '../request-signal.js';
import { serveBlob } from './blobs.js';
import { serveListing } from './listings.js';
import { serveManifest } from './manifests.js';
import { pingRoutes } from './ping.js';

export interface V2Dependencies {
  router: UpstreamRouter;
  /** What a manifest pull needs (pull/pull-manifest.ts); its recorder also records refused blobs. */
  pull: PullManifestDependencies;
  blobs: BlobService;
  metrics: Metrics;
  /** Who is pulling: undefined for anonymous. Throws UNAUTHORIZED when credentials are required. */
  authenticate: (request: FastifyRequest) => Promise<string | undefined>;
}

function pathAfterV2(request: FastifyRequest): string {
  const url = request.raw.url ?? '';
  const path = url.split('?', 1)[0] ?? '';
  return path.replace(/^\/v2\//, '');
}

/**
 * The /v2/ registry API: pulls served through the proxy, writes refused (pullgate is a read-only mirror).
 * Repository names hold slashes, so Fastify cannot tell `/v2/a/b/manifests/x` from `/v2/a/manifests/b` by pattern:
 * one wildcard route parses the path (oci/reference.ts) and hands it to manifests, blobs or listings.
 */
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

  pingRoutes(app, deps.authenticate);

  const handler = async (request: FastifyRequest<{ Querystring: { ns?: string } }>, reply: FastifyReply) => {
    const user = await deps.authenticate(request);
    const path = parseRegistryPath(pathAfterV2(request));
    if (path === undefined) throw new RegistryError('NAME_UNKNOWN', 'unknown registry endpoint');
    const ns = request.query.ns;
    const route = deps.router.route(path.name, ns);
    const signal = clientSignal(request, reply);
    switch (path.kind) {
      case 'manifest':
        return serveManifest(deps, request, reply, {
          route,
          name: path.name,
          reference: path.reference,
          user,
          signal,
        });
      case 'blob':
        return serveBlob({ ...deps, recorder: deps.pull.recorder }, request, reply, {
          route,
          digest: path.digest,
          user,
          signal,
        });
      case 'tags':
        return serveListing(request, reply, { route, name: path.name, listing: 'tags/list', ns, signal });
      case 'referrers':
        return serveListing(request, reply, {
          route,
          name: path.name,
          listing: `referrers/${path.digest.value}`,
          ns,
          signal,
        });
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
