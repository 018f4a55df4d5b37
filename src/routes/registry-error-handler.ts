import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../oci/errors.js';
import { distributionApiVersion, header } from '../oci/headers.js';
import { InvalidUpstreamDigestError, PullUnavailableError } from '../pull/errors.js';
import { isAbortError } from '../upstream/errors.js';

/**
 * The edge where errors become OCI error bodies. A RegistryError is meant for the client; a Fastify error with
 * a 4xx status is the client's mistake; anything else is our bug and is answered with a generic UNKNOWN, logged
 * with its stack, never sent.
 */
export function sendRegistryError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let error: RegistryError;
  if (err instanceof PullUnavailableError) {
    error = new RegistryError('UNAVAILABLE', err.message, { status: 503, detail: err.detail });
    request.log.warn(
      { missing: err.missing, err: err.cause },
      'refused a pull: a part it needs is unavailable',
    );
  } else if (err instanceof InvalidUpstreamDigestError) {
    error = new RegistryError('UNAVAILABLE', err.message, { status: 502 });
  } else if (err instanceof RegistryError) {
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
      const code = (err as FastifyError).code;
      error = new RegistryError(
        status === 415 || status === 413 ? 'UNSUPPORTED' : 'NAME_INVALID',
        code === 'FST_ERR_BAD_URL' ? 'malformed URL (a bad percent-escape)' : 'bad request',
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

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (a header over the size limit, a malformed
 * request line): answered on the raw socket, still as an OCI error body, then the connection is closed (the
 * parser cannot read what follows). Fastify's default writes its own `{"error","message","statusCode"}` shape.
 */
export function clientErrorResponse(err: NodeJS.ErrnoException & { bytesParsed?: number }): string {
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const reason = tooLarge ? 'Request Header Fields Too Large' : 'Bad Request';
  const error = new RegistryError(
    tooLarge ? 'SIZE_INVALID' : 'NAME_INVALID',
    tooLarge ? 'request headers too large' : 'malformed HTTP request',
    { status },
  );
  const body = JSON.stringify(error.toBody());
  return [
    `HTTP/1.1 ${status} ${reason}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `${header.dockerDistributionApiVersion}: ${distributionApiVersion}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}
