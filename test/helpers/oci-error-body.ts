import { ociErrorCodes } from '../../src/oci/errors.js';

/**
 * Why a body is not an OCI error body (distribution-spec "Error Codes": `{"errors":[{"code","message",
 * "detail"?}]}` with a code from the spec's table), or undefined when it is one. Used on every 4xx/5xx a test
 * provokes: clients parse this shape and nothing else.
 */
export function ociErrorProblem(body: Buffer | string): string | undefined {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return `not JSON: ${JSON.stringify(text.slice(0, 200))}`;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return `not an object: ${text.slice(0, 200)}`;
  const errors = (json as { errors?: unknown }).errors;
  if (!Array.isArray(errors) || errors.length === 0) return `no "errors" array: ${text.slice(0, 200)}`;
  for (const e of errors) {
    const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
    if (typeof code !== 'string' || !(code in ociErrorCodes)) return `unknown code ${JSON.stringify(code)}`;
    if (typeof message !== 'string') return `no message: ${text.slice(0, 200)}`;
  }
  // Other top-level fields are allowed: the spec does not forbid them, clients read `errors` only, and the admin API
  // keeps its older `error` object beside `errors` for the CLI.
  return undefined;
}

/** The first error's code, for a body that passed ociErrorProblem. */
export function ociErrorCode(body: Buffer | string): string | undefined {
  try {
    const json = JSON.parse(typeof body === 'string' ? body : body.toString('utf8')) as {
      errors?: { code?: string }[];
    };
    return json.errors?.[0]?.code;
  } catch {
    return undefined;
  }
}
