export type Subject = 'manifest' | 'blob' | 'tags' | 'ping';

/**
 * What went wrong with an upstream, in the terms a client can act on. The upstream layer says what happened; the
 * route's error handler (routes/registry-error-handler.ts) says which OCI error a client sees for it.
 */
export type UpstreamFailure =
  /** No answer, or the connection broke: 502. */
  | 'unreachable'
  /** Too slow (a transport timeout, or the upstream's own 504): 504. */
  | 'timeout'
  /** The upstream does not have the subject (a manifest, a blob, a repository): 404 of that subject. */
  | 'not-found'
  /** It wants credentials pullgate does not have, or its token service refused them: 401. */
  | 'unauthorized'
  | 'denied'
  | 'rate-limited'
  /** The upstream does not do what the client asked (HEAD on tags/list): 405, the request's limit. */
  | 'unsupported'
  /** It refused a manifest request as malformed: 400. */
  | 'rejected'
  /** Anything else it got wrong: a 5xx, wrong bytes, too many bytes, no token, a redirect loop: 502. */
  | 'bad-answer'
  /** No upstream is configured for the registry a client named: 404. */
  | 'unknown-registry';

export interface UpstreamErrorOptions {
  subject?: Subject;
  /** What the client may be told about it (never credentials or bodies). */
  detail?: Record<string, unknown>;
  /** A 429's Retry-After, as a number of seconds. */
  retryAfter?: string;
  cause?: unknown;
}

/** A failure of an upstream registry; the message names the upstream and is fit for a client. */
export class UpstreamError extends Error {
  readonly subject: Subject | undefined;
  readonly detail: Record<string, unknown> | undefined;
  readonly retryAfter: string | undefined;

  constructor(
    readonly failure: UpstreamFailure,
    message: string,
    options: UpstreamErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UpstreamError';
    this.subject = options.subject;
    this.detail = options.detail;
    this.retryAfter = options.retryAfter;
  }

  /**
   * The upstream is down, slow, limiting or broken (not "it said no"): what a tag lookup may answer from its last
   * known digest instead, and what the tag watcher counts as an outage.
   */
  get outage(): boolean {
    return (
      this.failure === 'unreachable' ||
      this.failure === 'timeout' ||
      this.failure === 'rate-limited' ||
      this.failure === 'bad-answer'
    );
  }
}

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

/** A failure to reach the upstream (no HTTP answer): timed out, or unreachable. */
export function mapTransportError(err: unknown, upstream: string): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const code = errorCode(err) ?? 'unknown';
  if (timeoutCodes.has(code)) {
    return new UpstreamError('timeout', `upstream ${upstream} timed out`, {
      detail: { upstream, cause: code },
      cause: err,
    });
  }
  return new UpstreamError('unreachable', `upstream ${upstream} is unreachable`, {
    detail: { upstream, cause: unreachableCodes.has(code) ? code : 'error' },
    cause: err,
  });
}

/** What an upstream HTTP status that is not a success means for the subject asked for. */
export function mapUpstreamStatus(
  status: number,
  subject: Subject,
  upstream: string,
  retryAfter: string | undefined,
): UpstreamError {
  const options = { subject, detail: { upstream, status } };
  switch (status) {
    case 404:
      if (subject === 'blob')
        return new UpstreamError('not-found', 'blob unknown to upstream registry', options);
      if (subject === 'manifest')
        return new UpstreamError('not-found', 'manifest unknown to upstream registry', options);
      return new UpstreamError('not-found', 'repository name not known to upstream registry', options);
    case 401:
      return new UpstreamError(
        'unauthorized',
        `upstream ${upstream} requires authentication pullgate could not provide`,
        options,
      );
    case 403:
      return new UpstreamError('denied', `upstream ${upstream} denied access`, options);
    case 429:
      return new UpstreamError('rate-limited', `upstream ${upstream} is rate limiting pulls`, {
        ...options,
        retryAfter: retryAfter && /^\d+$/.test(retryAfter) ? retryAfter : '60',
      });
    case 405:
      // The client asked for something the upstream does not do (HEAD on tags/list: distribution answers 405).
      // That is the request's limit, not an upstream failure: pass it on as 405, not a 502.
      return new UpstreamError('unsupported', `upstream ${upstream} does not support this request`, options);
    case 400:
      if (subject === 'manifest')
        return new UpstreamError('rejected', 'upstream rejected the manifest request', options);
      return new UpstreamError('bad-answer', `upstream ${upstream} rejected the request`, options);
    default:
      if (status === 504) return new UpstreamError('timeout', `upstream ${upstream} timed out`, options);
      return new UpstreamError('bad-answer', `upstream ${upstream} answered ${status}`, options);
  }
}
