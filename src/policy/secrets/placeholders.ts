// Values that sit under secret-looking names in real images but are not credentials: unset or empty values,
// references to other variables, masked or bracketed placeholders, flags, paths, checksums and public GPG
// key fingerprints. Each test is anchored and linear; callers cap the value length first.

// Bounded repeats keep the unanchored search linear on long values.
const REFERENCE =
  /\$\{[^}]{0,256}\}|\$\([^)]{0,256}\)|\$[A-Za-z_]|`[^`]{0,256}`|%[A-Za-z_][A-Za-z0-9_]{0,64}%|\{\{[^}]{0,256}\}\}/;
const ONLY_REFERENCE =
  /^(?:\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*|`[^`]*`|%[A-Za-z_][A-Za-z0-9_]*%|\{\{[^}]*\}\})$/;
const BRACKETED = /^(?:<[^<>]*>|\[[^[\]]*\]|\(\s*[^()]*\)|\{[^{}]*\})$/;
const BOOLEAN = /^(?:yes|no|y|n|true|false|on|off|0|1|enabled?|disabled?)$/i;
const NON_VALUE =
  /^(?:none|null|nil|nul|undefined|unset|empty|n\/a|na|tbd|todo|fixme|redacted|placeholder|-+)$/i;
// "your-token-here", "<insert key>", "replace_me", "put your key here" and the like.
const INSTRUCTION =
  /^(?:your|insert|enter|put|add|set)\b.*|.*\b(?:here|goes here)$|^replace[-_ ]?(?:me|this)$/i;
const MASK_CHAR = /[xX*#•]/g;
const SEPARATORS = /[-_.:/\s]/g;
const ABSOLUTE_PATH = /^(?:~|\.{1,2})?\/[\w.@%+,~:/-]*$/;
const URL_WITHOUT_USERINFO = /^[a-z][a-z0-9+.-]*:\/\/[^\s@]*$/i;
const HEX_RUN = /^(?:0x)?[0-9a-fA-F]+$/;
// A GPG fingerprint (40 hex), long key id (16 hex) or short key id (8 hex), optionally 0x-prefixed or in the
// `gpg --fingerprint` groups of four, separated by whitespace when there are several (GPG_KEYS).
const FINGERPRINT =
  '(?:0x)?(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{16}|[0-9a-fA-F]{8}|(?:[0-9a-fA-F]{4} {1,2}){9}[0-9a-fA-F]{4})';
const FINGERPRINT_LIST = new RegExp(`^${FINGERPRINT}(?:\\s+${FINGERPRINT})*$`);
// Hex digests of the usual lengths, optionally `algo:` or `algo-` prefixed.
const CHECKSUM =
  /^(?:(?:sha(?:1|224|256|384|512)|md5|blake2b?|crc32)[:-])?(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{56}|[0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})$/i;

export function isBlank(value: string): boolean {
  return value.trim() === '';
}

/** Contains a shell, compose or template variable reference: the literal is not in the image. */
export function hasReference(value: string): boolean {
  return REFERENCE.test(value);
}

export function isOnlyReference(value: string): boolean {
  return ONLY_REFERENCE.test(value.trim());
}

export function isBooleanish(value: string): boolean {
  return BOOLEAN.test(value.trim());
}

/**
 * Masked with x, *, # or • ("xxxx", "ghp_xxxxxxxx", "xoxp-XXXX-XXXX", "AKIAXXXXXXXXXXXXXXXX"): at most a short
 * prefix is left once the mask characters and separators are gone.
 */
export function isMasked(value: string): boolean {
  const v = value.trim();
  const masks = v.length - v.replace(MASK_CHAR, '').length;
  if (masks < 3) return false;
  const rest = v.replace(MASK_CHAR, '').replace(SEPARATORS, '');
  return rest.length <= 4 && masks >= rest.length * 2;
}

/** A documentation placeholder, not a value anyone could log in with. */
export function isPlaceholder(value: string): boolean {
  const v = value.trim();
  if (v === '') return true;
  if (BRACKETED.test(v) || NON_VALUE.test(v) || isMasked(v)) return true;
  if (v.includes('EXAMPLE')) return true;
  return v.length <= 64 && INSTRUCTION.test(v);
}

export function isAbsolutePath(value: string): boolean {
  const v = value.trim();
  return v.length > 1 && ABSOLUTE_PATH.test(v);
}

export function isUrlWithoutUserinfo(value: string): boolean {
  return URL_WITHOUT_USERINFO.test(value.trim());
}

export function isFingerprintList(value: string): boolean {
  return FINGERPRINT_LIST.test(value.trim());
}

/** An upper-case hex fingerprint or key id as `gpg --fingerprint` prints it and Dockerfiles copy it. */
export function isUpperHexFingerprint(value: string): boolean {
  const v = value.trim();
  return isFingerprintList(v) && !/[a-f]/.test(v.replace(/^0x/, ''));
}

export function isChecksum(value: string): boolean {
  return CHECKSUM.test(value.trim());
}

export function isHex(value: string): boolean {
  return HEX_RUN.test(value.trim());
}

const PLACEHOLDER_WORDS =
  /^(?:access|api|app|auth|bar|baz|bearer|client|demo|dev|dummy|example|fake|foo|here|id|insert|key|keys|mock|my|none|private|prod|public|sample|secret|secrets|test|testing|the|token|tokens|value|your)+$/i;

/**
 * A value made only of the words its name is made of (or the usual filler words) plus short vendor prefixes:
 * `GITHUB_TOKEN=ghp_key`, `AWS_ACCESS_KEY_ID=accesskey`, `TAVILY_API_KEY=tvly-dev-key`. Used for token and key
 * names only; under a password name a dictionary word is still a password.
 */
export function isEchoOfName(value: string): boolean {
  const segments = value
    .trim()
    .split(/[-_.\s]+/)
    .filter((s) => s !== '');
  if (segments.length === 0) return false;
  let words = 0;
  for (const segment of segments) {
    if (segment.length > 64) return false;
    if (PLACEHOLDER_WORDS.test(segment)) words++;
    else if (segment.length > 4 || !/^[A-Za-z]+$/.test(segment)) return false;
  }
  return words > 0;
}
