import { findConnectionStringCredentials } from './connection-string.js';
import { CREDENTIAL_FORMATS } from './credential-formats.js';
import { findJwt } from './jwt.js';
import { judgeNamedValue } from './named-value.js';
import { findOptionCredentials } from './option-credentials.js';
import { hasSequentialFiller, isPlaceholder } from './placeholders.js';
import { findPrivateKey } from './private-key.js';
import { isOptionListName } from './secret-names.js';
import { findUrlCredentials } from './url-credentials.js';
import { findWebhookUrl } from './webhook-url.js';

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
 * A credential found by its shape alone, whatever the name: vendor token formats, private keys, JWTs, URLs
 * and connection strings with a password, webhook URLs with their token, and `-D…password=`/`--token=`
 * options. Masked, filler or documentation placeholders (`ghp_xxxx…`, `ntn_1234567…`, `…EXAMPLE`) do not count.
 */
export function findCredentialFormat(text: string, options: DetectOptions = {}): SecretMatch | undefined {
  const value = text.length > MAX_SCANNED_LENGTH ? text.slice(0, MAX_SCANNED_LENGTH) : text;
  const key = findPrivateKey(value);
  if (key) return { kind: key.kind, reason: `looks like ${key.description}` };
  for (const format of CREDENTIAL_FORMATS) {
    const match = format.pattern.exec(value);
    // Vendor docs spell sample tokens with "example" in them (`dckr_pat_Example…`, `…EXAMPLEKEY`).
    if (
      match !== null &&
      !isPlaceholder(match[0]) &&
      !/example/i.test(match[0]) &&
      !hasSequentialFiller(match[0])
    ) {
      return { kind: format.id, reason: `looks like ${format.description}` };
    }
  }
  const found =
    findJwt(value) ??
    findUrlCredentials(value) ??
    findConnectionStringCredentials(value) ??
    findWebhookUrl(value) ??
    findOptionCredentials(value, { separated: false, shell: options.shell === true });
  return found ? { kind: found.kind, reason: `looks like ${found.description}` } : undefined;
}

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
  const shell = options.shell === true;
  const byShape = findCredentialFormat(value, options);
  if (byShape) return byShape;
  if (isOptionListName(name)) {
    const option = findOptionCredentials(value, { separated: true, shell });
    if (option) return { kind: option.kind, reason: `holds ${option.description}` };
  }
  return judgeNamedValue(name, value, shell);
}
