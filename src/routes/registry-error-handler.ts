import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { CacheFullError } from '../cache/blob-store.js';
import { type OciErrorCode, RegistryError } from '../oci/errors.js';
import { distributionApiVersion, header } from '../oci/headers.js';
import {
  BlobRefusedError,
  InvalidUpstreamDigestError,
  PullUnavailableError,
  RangeNotSatisfiableError,
} from '../pull/errors.js';
import { isAbortError, UpstreamError } from '../upstream/errors.js';

/** Which OCI error (and status) a client sees for each way an upstream can fail. */
const upstreamFailures: Record<UpstreamError['failure'], { code: OciErrorCode; status?: number }> = {
  unreachable: { code: 'UNAVAILABLE', status: 502 },
  timeout: { code: 'UNAVAILABLE', status: 504 },
  'not-found': { code: 'NAME_UNKNOWN' },
  unauthorized: { code: 'UNAUTHORIZED' },
  denied: { code: 'DENIED' },
  'rate-limited': { code: 'TOOMANYREQUESTS' },
  unsupported: { code: 'UNSUPPORTED' },
  rejected: { code: 'MANIFEST_INVALID' },
  'bad-answer': { code: 'UNAVAILABLE', status: 502 },
  'unknown-registry': { code: 'NAME_UNKNOWN' },
};

/**
 * The OCI error a client sees for a domain error the use cases and lower layers raise, or undefined when the
 * error is not one of them. The one place where "what went wrong" becomes an OCI code and an HTTP status.
 */
export function toRegistryError(err: unknown): RegistryError | undefined {
  if (err instanceof RegistryError) return err;
  if (err instanceof UpstreamError) {
    let { code, status } = upstreamFailures[err.failure];
    if (err.failure === 'not-found' && err.subject === 'blob') code = 'BLOB_UNKNOWN';
    if (err.failure === 'not-found' && err.subject === 'manifest') code = 'MANIFEST_UNKNOWN';
    return new RegistryError(code, err.message, {
      ...(status === undefined ? {} : { status }),
      detail: err.detail,
      ...(err.retryAfter === undefined ? {} : { headers: { [header.retryAfter]: err.retryAfter } }),
      cause: err,
    });
  }
  if (err instanceof PullUnavailableError) {
    return new RegistryError('UNAVAILABLE', err.message, { status: 503, detail: err.detail });
  }
  if (err instanceof InvalidUpstreamDigestError)
    return new RegistryError('UNAVAILABLE', err.message, { status: 502 });
  if (err instanceof BlobRefusedError) {
    return new RegistryError('DENIED', err.message, {
      detail: {
        digest: err.digest.value,
        findings: err.verdict.findings.map((f) =>
          f.key === undefined ? { rule: f.rule } : { rule: f.rule, key: f.key },
        ),
      },
    });
  }
  if (err instanceof RangeNotSatisfiableError) {
    return new RegistryError('SIZE_INVALID', err.message, {
      status: 416,
      headers: { [header.contentRange]: `bytes */${err.size}` },
    });
  }
  if (err instanceof CacheFullError) {
    return new RegistryError('UNAVAILABLE', err.message, {
      status: 503,
      detail: {
        cache: 'disk full',
        freeBytes: err.freeBytes,
        ...(err.blobBytes === undefined ? {} : { blobBytes: err.blobBytes }),
      },
    });
  }
  return undefined;
}

/**
 * The edge where errors become OCI error bodies. A domain error says what went wrong and toRegistryError says
 * what the client sees; a Fastify error with a 4xx status is the client's mistake; anything else is our bug and
 * is answered with a generic UNKNOWN, logged with its stack, never sent.
 */
export function sendRegistryError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const mapped = toRegistryError(err);
  if (err instanceof PullUnavailableError) {
    request.log.warn(
      { missing: err.missing, err: err.cause },
      'refused a pull: a part it needs is unavailable',
    );
  } else if (mapped !== undefined && mapped.status >= 500 && !(err instanceof InvalidUpstreamDigestError)) {
    request.log.warn(
      { code: mapped.code, status: mapped.status, detail: mapped.detail },
      'failed to serve from upstream',
    );
  }
  const error = mapped ?? notADomainError(err, request);
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

/** An error no layer meant for a client: the client went away, made a mistake Fastify caught, or we have a bug. */
function notADomainError(err: unknown, request: FastifyRequest): RegistryError {
  if (isAbortError(err)) {
    // The client went away; there is nobody to answer.
    request.log.debug('client disconnected');
    return new RegistryError('UNAVAILABLE', 'request aborted', { status: 499 });
  }
  const status = (err as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = (err as FastifyError).code;
    return new RegistryError(
      status === 415 || status === 413 ? 'UNSUPPORTED' : 'NAME_INVALID',
      code === 'FST_ERR_BAD_URL' ? 'malformed URL (a bad percent-escape)' : 'bad request',
      { status },
    );
  }
  request.log.error({ err }, 'failed to handle request');
  return new RegistryError('UNKNOWN', 'internal error');
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
