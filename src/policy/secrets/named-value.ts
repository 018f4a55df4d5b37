import { looksGenerated } from './entropy.js';
import {
  hasReference,
  hasSequentialFiller,
  isAbsolutePath,
  isBlank,
  isChecksum,
  isEchoOfName,
  isFingerprintList,
  isNotLiteral,
  isOwnName,
  isUpperHexFingerprint,
  isUrlWithoutUserinfo,
} from './placeholders.js';
import { isPublicKeyMaterial } from './public-key.js';
import { classifySecretName, isAccessKeyIdName } from './secret-names.js';

export type NamedValueMatch = { kind: string; reason: string };

const AWS_SECRET_ACCESS_KEY = /^[A-Za-z0-9/+]{40}$/;
const ACCESS_KEY_ID = /^[A-Za-z0-9-]{16,128}$/;

/**
 * Judges a value by what its name says it is, once no credential format matched: any literal under a password
 * name, a non-placeholder under a token name, a generated-looking value under a bare key name. Shared by
 * variables (detect.ts) and the named options inside option strings (option-credentials.ts). `shell`: the
 * value comes from a shell command, where a `$…` reference anywhere in it is expanded at run time.
 */
export function judgeNamedValue(name: string, raw: string, shell: boolean): NamedValueMatch | undefined {
  const v = unquote(raw.trim());
  if (isBlank(v) || isNotLiteral(v) || isOwnName(name, v) || isPublicKeyMaterial(v)) return undefined;
  if (shell && hasReference(v)) return undefined;
  if (isAbsolutePath(v) || isUrlWithoutUserinfo(v)) return undefined;

  const nameInfo = classifySecretName(name);
  if (nameInfo.class === 'none') {
    // `*_ACCESS_KEY_ID`, `*_SECRET_ID`, `*_AK`: the id half of a cloud key pair (IBM COS HMAC, Huawei, Tencent
    // and Alibaba ids without their usual prefix), a credential when it holds a generated value.
    if (isAccessKeyIdName(name) && ACCESS_KEY_ID.test(v) && looksGenerated(v) && !hasSequentialFiller(v)) {
      return { kind: 'cloud-access-key-id', reason: 'holds a generated-looking access key id' };
    }
    return undefined;
  }
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
      if (isEchoOfName(v) || /^\d{1,6}$/.test(v) || hasSequentialFiller(v)) return undefined;
      return looksGenerated(v)
        ? {
            kind: 'token-under-secret-name',
            reason: 'holds a generated-looking value under a token-like name',
          }
        : { kind: 'token-under-secret-name', reason: 'holds a literal value under a token-like name' };
    case 'key':
      // A bare *_KEY holding a hex digest is a cache or lookup key more often than a credential.
      if (isEchoOfName(v) || isChecksum(v) || !looksGenerated(v) || hasSequentialFiller(v)) return undefined;
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
