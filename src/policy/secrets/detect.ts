import { CREDENTIAL_FORMATS } from './credential-formats.js';
import { looksGenerated } from './entropy.js';
import { findJwt } from './jwt.js';
import {
  hasReference,
  isAbsolutePath,
  isBlank,
  isBooleanish,
  isChecksum,
  isEchoOfName,
  isFingerprintList,
  isOnlyReference,
  isPlaceholder,
  isUpperHexFingerprint,
  isUrlWithoutUserinfo,
} from './placeholders.js';
import { findPrivateKey } from './private-key.js';
import { classifySecretName } from './secret-names.js';
import { findUrlCredentials } from './url-credentials.js';

export type SecretMatch = {
  /** e.g. 'aws-access-key-id', 'private-key', 'jwt', 'url-credentials', 'password-under-secret-name'. */
  kind: string;
  /** Why, without the value: completes "<NAME> …", e.g. "looks like an AWS access key id". */
  reason: string;
};

export type DetectOptions = {
  /**
   * The value comes from a shell command, where `$VAR`, `${VAR}` and `$(cmd)` anywhere in it are expanded at
   * run time, so a value with a reference in it is not a literal in the image.
   */
  shell?: boolean;
};

/** Longer values are cut before any pattern runs: credentials are short, and the patterns stay linear. */
export const MAX_SCANNED_LENGTH = 65_536;

/**
 * A credential found by its shape alone, whatever the name: vendor token formats, private keys, JWTs and
 * URLs with a password. Masked or documentation placeholders (`ghp_xxxx…`, `…EXAMPLE`) do not count.
 */
export function findCredentialFormat(text: string): SecretMatch | undefined {
  const value = text.length > MAX_SCANNED_LENGTH ? text.slice(0, MAX_SCANNED_LENGTH) : text;
  const key = findPrivateKey(value);
  if (key) return { kind: key.kind, reason: `looks like ${key.description}` };
  for (const format of CREDENTIAL_FORMATS) {
    const match = format.pattern.exec(value);
    // Vendor docs spell sample tokens with "example" in them (`dckr_pat_Example…`, `…EXAMPLEKEY`).
    if (match !== null && !isPlaceholder(match[0]) && !/example/i.test(match[0])) {
      return { kind: format.id, reason: `looks like ${format.description}` };
    }
  }
  const jwt = findJwt(value);
  if (jwt) return { kind: jwt.kind, reason: `looks like ${jwt.description}` };
  const url = findUrlCredentials(value);
  if (url) return { kind: url.kind, reason: `looks like ${url.description}` };
  return undefined;
}

const AWS_SECRET_ACCESS_KEY = /^[A-Za-z0-9/+]{40}$/;

/**
 * Judges one variable: does `value`, stored under `name`, look like a credential? The value decides; the name
 * only sets how much evidence is needed (see secret-names.ts). Pure and linear in the (capped) value length.
 */
export function detectSecret(
  name: string,
  rawValue: string,
  options: DetectOptions = {},
): SecretMatch | undefined {
  const value = rawValue.length > MAX_SCANNED_LENGTH ? rawValue.slice(0, MAX_SCANNED_LENGTH) : rawValue;
  const byShape = findCredentialFormat(value);
  if (byShape) return byShape;

  const nameInfo = classifySecretName(name);
  if (nameInfo.class === 'none') return undefined;

  const v = unquote(value.trim());
  if (isBlank(v) || isPlaceholder(v) || isBooleanish(v) || isOnlyReference(v)) return undefined;
  if (options.shell === true && hasReference(v)) return undefined;
  if (isAbsolutePath(v) || isUrlWithoutUserinfo(v)) return undefined;
  // Public GPG identifiers: fingerprints under GPG/PGP names (python GPG_KEY, php GPG_KEYS, rabbitmq
  // *_PGP_KEY_ID) and upper-case fingerprints under a bare KEY (postgres/mysql `key='…'`).
  if (isFingerprintList(v) && (nameInfo.gpg || nameInfo.class === 'key')) return undefined;
  if (nameInfo.class !== 'password' && isUpperHexFingerprint(v)) return undefined;

  if (nameInfo.aws && AWS_SECRET_ACCESS_KEY.test(v) && /SECRET/i.test(name)) {
    return { kind: 'aws-secret-access-key', reason: 'looks like an AWS secret access key' };
  }
  switch (nameInfo.class) {
    case 'password':
      return {
        kind: 'password-under-secret-name',
        reason: 'holds a literal value under a password-like name',
      };
    case 'token':
      // Tokens are not short numbers; a short number under TOKEN_* is a count or a lifetime.
      if (isEchoOfName(v) || /^\d{1,6}$/.test(v)) return undefined;
      return looksGenerated(v)
        ? {
            kind: 'token-under-secret-name',
            reason: 'holds a generated-looking value under a token-like name',
          }
        : { kind: 'token-under-secret-name', reason: 'holds a literal value under a token-like name' };
    case 'key':
      // A bare *_KEY holding a hex digest is a cache or lookup key more often than a credential.
      if (isEchoOfName(v) || isChecksum(v) || !looksGenerated(v)) return undefined;
      return {
        kind: 'high-entropy-under-secret-name',
        reason: 'holds a high-entropy value under a key-like name',
      };
    default:
      return assertNever(nameInfo.class);
  }
}

function unquote(value: string): string {
  if (value.length >= 2) {
    const first = value[0];
    if ((first === '"' || first === "'") && value.endsWith(first)) return value.slice(1, -1);
  }
  return value;
}

function assertNever(value: never): never {
  throw new Error(`unexpected secret name class: ${String(value)}`);
}
