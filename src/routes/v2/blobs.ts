import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Digest } from '../../oci/digest.js';
import { header } from '../../oci/headers.js';
import type { Metrics } from '../../plugins/metrics.js';
import type { BlobService } from '../../pull/blob-service.js';
import { pullBlob } from '../../pull/pull-blob.js';
import type { DecisionRecorder } from '../../pull/record-decision.js';
import type { UpstreamRepository } from '../../upstream/router.js';

export interface BlobRequest {
  route: UpstreamRepository;
  digest: Digest;
  user: string | undefined;
  signal: AbortSignal;
}

/** GET and HEAD of a blob: HEAD asks the blob service for its size; GET is the pull use case, streamed out. */
export async function serveBlob(
  deps: { blobs: BlobService; recorder: DecisionRecorder; metrics: Metrics },
  request: FastifyRequest,
  reply: FastifyReply,
  asked: BlobRequest,
): Promise<FastifyReply> {
  if (request.method === 'HEAD') {
    const { size } = await deps.blobs.head(asked.route, asked.digest, asked.signal);
    reply.header(header.dockerContentDigest, asked.digest.value).type('application/octet-stream');
    if (size !== undefined) reply.header(header.contentLength, String(size));
    reply.header(header.acceptRanges, 'bytes');
    return reply.send();
  }
  const answer = await pullBlob(
    { blobs: deps.blobs, recorder: deps.recorder },
    {
      requestId: request.id,
      route: asked.route,
      digest: asked.digest,
      range: request.headers.range,
      client: { address: request.ip, user: asked.user, userAgent: request.headers['user-agent'] },
      signal: asked.signal,
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
    .header(header.dockerContentDigest, asked.digest.value)
    .header(header.acceptRanges, 'bytes')
    .type('application/octet-stream')
    .send(answer.body);
}
