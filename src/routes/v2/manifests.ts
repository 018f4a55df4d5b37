import type { FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../../oci/errors.js';
import { header } from '../../oci/headers.js';
import type { ManifestBytes } from '../../oci/manifest.js';
import type { Reference } from '../../oci/reference.js';
import type { Metrics } from '../../plugins/metrics.js';
import {
  type PulledManifest,
  type PullManifestDependencies,
  pullManifest,
} from '../../pull/pull-manifest.js';
import type { UpstreamRepository } from '../../upstream/router.js';

export interface ManifestRequest {
  route: UpstreamRepository;
  name: string;
  reference: Reference;
  user: string | undefined;
  signal: AbortSignal;
}

/** GET and HEAD of a manifest: the pull use case decides, and its answer becomes headers and bytes here. */
export async function serveManifest(
  deps: { pull: PullManifestDependencies; metrics: Metrics },
  request: FastifyRequest,
  reply: FastifyReply,
  asked: ManifestRequest,
): Promise<FastifyReply> {
  const head = request.method === 'HEAD';
  const pulled = await pullManifest(deps.pull, {
    requestId: request.id,
    route: asked.route,
    name: asked.name,
    reference: asked.reference,
    method: head ? 'HEAD' : 'GET',
    accept: request.headers.accept,
    client: { address: request.ip, user: asked.user, userAgent: request.headers['user-agent'] },
    signal: asked.signal,
    log: request.log,
  });
  return replyManifest(deps.metrics, reply, pulled, head);
}

/** The answer to a manifest pull, from what the use case decided (the OCI envelope is made here, at the edge). */
function replyManifest(
  metrics: Metrics,
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
      metrics.bytesServed.inc({ kind: 'manifest', source }, manifest.bytes.length);
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

function warningHeader(text: string): string {
  // RFC 7234 §5.5 warn-text is a quoted-string; OCI distribution uses warn-code 299 for registry warnings.
  return `299 - "${text.replace(/["\\]/g, "'").replace(/[\r\n]+/g, ' ')}"`;
}
