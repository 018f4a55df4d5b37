import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../oci/errors.js';
import { distributionApiVersion, header } from '../oci/headers.js';
import { isAbortError } from '../upstream/errors.js';

/**
 * The edge where errors become OCI error bodies. A RegistryError is meant for the client; a Fastify error with
 * a 4xx status is the client's mistake; anything else is our bug and is answered with a generic UNKNOWN, logged
 * with its stack, never sent.
 */
export function sendRegistryError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let error: RegistryError;
  if (err instanceof RegistryError) {
    error = err;
    if (err.status >= 500)
      request.log.warn(
        { code: err.code, status: err.status, detail: err.detail },
        'failed to serve from upstream',
      );
  } else if (isAbortError(err)) {
    // The client went away; there is nobody to answer.
    request.log.debug('client disconnected');
    error = new RegistryError('UNAVAILABLE', 'request aborted', { status: 499 });
  } else {
    const status = (err as FastifyError).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      error = new RegistryError(
        status === 415 || status === 413 ? 'UNSUPPORTED' : 'NAME_INVALID',
        'bad request',
        { status },
      );
    } else {
      request.log.error({ err }, 'failed to handle request');
      error = new RegistryError('UNKNOWN', 'internal error');
    }
  }
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return reply;
  }
  reply
    .code(error.status)
    .headers(error.headers)
    .header(header.dockerDistributionApiVersion, distributionApiVersion);
  if (request.method === 'HEAD') return reply.header(header.contentType, 'application/json').send();
  return reply.type('application/json').send(error.toBody());
}
