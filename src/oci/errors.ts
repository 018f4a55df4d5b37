/**
 * The one table of OCI error codes pullgate answers with, and the one error class that carries them.
 * Codes and their meanings: OCI distribution-spec v1.1, "Error Codes"; the HTTP status each maps to follows
 * distribution/distribution's registry/api/errcode/register.go so clients see what a registry would send.
 */
export const ociErrorCodes = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 404,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  // Not in the spec's table but used by distribution for upstream trouble; clients treat them as retryable.
  UNAVAILABLE: 503,
  UNKNOWN: 500,
} as const;

export type OciErrorCode = keyof typeof ociErrorCodes;

export interface OciErrorBody {
  errors: { code: OciErrorCode; message: string; detail?: unknown }[];
}

export interface RegistryErrorOptions {
  /** Overrides the table's status, e.g. 502/504 for UNAVAILABLE caused by a bad or slow upstream. */
  status?: number;
  detail?: unknown;
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * An error a client is meant to see. Everything else that escapes a route is a bug and is answered with a
 * generic UNKNOWN, never with its message or stack.
 */
export class RegistryError extends Error {
  readonly code: OciErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Record<string, string>;

  constructor(code: OciErrorCode, message: string, options: RegistryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistryError';
    this.code = code;
    this.status = options.status ?? ociErrorCodes[code];
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }

  toBody(): OciErrorBody {
    const error: OciErrorBody['errors'][number] = { code: this.code, message: this.message };
    if (this.detail !== undefined) error.detail = this.detail;
    return { errors: [error] };
  }
}

export function isRegistryError(err: unknown): err is RegistryError {
  return err instanceof RegistryError;
}
