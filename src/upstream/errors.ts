import { RegistryError } from '../oci/errors.js';

export type Subject = 'manifest' | 'blob' | 'tags' | 'ping';

// undici error codes (undici docs, Errors.md) and socket errnos, mapped to what a client can act on:
// 504 when the upstream was too slow, 502 when it could not be reached or broke the connection.
const timeoutCodes = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isAbortError(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    ((err as { name?: unknown }).name === 'AbortError' || errorCode(err) === 'UND_ERR_ABORTED')
  );
}

/** Maps a failure to reach the upstream (no HTTP answer) to the OCI error a client sees. */
export function mapTransportError(err: unknown, upstream: string): RegistryError {
  if (err instanceof RegistryError) return err;
  const code = errorCode(err) ?? 'unknown';
  if (timeoutCodes.has(code)) {
    return new RegistryError('UNAVAILABLE', `upstream ${upstream} timed out`, {
      status: 504,
      detail: { upstream, cause: code },
      cause: err,
    });
  }
  return new RegistryError('UNAVAILABLE', `upstream ${upstream} is unreachable`, {
    status: 502,
    detail: { upstream, cause: unreachableCodes.has(code) ? code : 'error' },
    cause: err,
  });
}

/** Maps an upstream HTTP status that is not a success to the OCI error a client sees. */
export function mapUpstreamStatus(
  status: number,
  subject: Subject,
  upstream: string,
  retryAfter: string | undefined,
): RegistryError {
  const detail = { upstream, status };
  switch (status) {
    case 404:
      if (subject === 'blob')
        return new RegistryError('BLOB_UNKNOWN', 'blob unknown to upstream registry', { detail });
      if (subject === 'manifest') {
        return new RegistryError('MANIFEST_UNKNOWN', 'manifest unknown to upstream registry', { detail });
      }
      return new RegistryError('NAME_UNKNOWN', 'repository name not known to upstream registry', { detail });
    case 401:
      return new RegistryError(
        'UNAUTHORIZED',
        `upstream ${upstream} requires authentication pullgate could not provide`,
        {
          detail,
        },
      );
    case 403:
      return new RegistryError('DENIED', `upstream ${upstream} denied access`, { detail });
    case 429:
      return new RegistryError('TOOMANYREQUESTS', `upstream ${upstream} is rate limiting pulls`, {
        detail,
        headers: { 'retry-after': retryAfter && /^\d+$/.test(retryAfter) ? retryAfter : '60' },
      });
    case 405:
      // The client asked for something the upstream does not do (HEAD on tags/list: distribution answers 405).
      // That is the request's limit, not an upstream failure: pass it on as 405, not a 502.
      return new RegistryError('UNSUPPORTED', `upstream ${upstream} does not support this request`, {
        detail,
      });
    case 400:
      if (subject === 'manifest')
        return new RegistryError('MANIFEST_INVALID', 'upstream rejected the manifest request', { detail });
      return new RegistryError('UNAVAILABLE', `upstream ${upstream} rejected the request`, {
        status: 502,
        detail,
      });
    default:
      if (status === 504)
        return new RegistryError('UNAVAILABLE', `upstream ${upstream} timed out`, { status: 504, detail });
      return new RegistryError('UNAVAILABLE', `upstream ${upstream} answered ${status}`, {
        status: 502,
        detail,
      });
  }
}
