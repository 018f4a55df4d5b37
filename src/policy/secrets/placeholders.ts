// Values that sit under secret-looking names in real images but are not credentials: unset or empty values,
// references to other variables, masked or bracketed placeholders, flags, paths, checksums and public GPG
// key fingerprints. Each test is anchored and linear; callers cap the value length first.

// Bounded repeats keep the unanchored search linear on long values.
// `%env(NAME)%` and `%env(processor:NAME)%` are Symfony's run-time environment references.
// The bodies exclude their own opening bracket, so a run of `{{{…` or `$($(…` fails at once instead of
// scanning 256 characters from every position (a nested reference is still found from its inner start).
const REFERENCE =
  /\$\{[^{}]{0,256}\}|\$\([^()]{0,256}\)|\$[A-Za-z_]|`[^`]{0,256}`|%[A-Za-z_][A-Za-z0-9_]{0,64}%|%env\([^()%]{1,256}\)%|\{\{[^{}]{0,256}\}\}/;
const ONLY_REFERENCE =
  /^(?:\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*|`[^`]*`|%[A-Za-z_][A-Za-z0-9_]*%|%env\([^()%]*\)%|\{\{[^}]*\}\})$/;
const BRACKETED = /^(?:<[^<>]*>|\[[^[\]]*\]|\(\s*[^()]*\)|\{[^{}]*\})$/;
const BOOLEAN = /^(?:yes|no|y|n|true|false|on|off|0|1|enabled?|disabled?)$/i;
const NON_VALUE =
  /^(?:none|null|nil|nul|undefined|unset|empty|n\/a|na|tbd|todo|fixme|redacted|placeholder|-+|\.{2,}|…+|\?+)$/i;
// "your-token-here", "<insert key>", "replace_me", "put your key here" and the like.
// `_` and `-` separate words here too (`your_password`, `api-key-here`).
const INSTRUCTION =
  /^(?:your|insert|enter|put|add|set)(?:[\s_-].*)?$|(?:^|[\s_-])here$|^replace[-_ ]?(?:me|this)$/i;
const MASK_CHAR = /[xX*#•]/g;
const SEPARATORS = /[-_.:/~\s]/g;
// A vendor prefix before the masked body: `sha256~`, `sk_live_`, `xoxb-`, `dp.st.`.
const TOKEN_PREFIX = /^(?:[A-Za-z0-9]{1,12}[-_.:~]){1,3}/;
const ABSOLUTE_PATH = /^(?:~|\.{1,2})?\/[\w.@%+,~:/-]*$/;
// Userinfo sits in the authority only: an `@` later in the path (Teams webhook ids) is not a password.
const URL_WITHOUT_USERINFO = /^[a-z][a-z0-9+.-]*:\/\/[^\s@/?#]*(?:[/?#]\S*)?$/i;
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
  return maskedBody(v) || maskedBody(v.replace(TOKEN_PREFIX, ''));
}

function maskedBody(v: string): boolean {
  const masks = v.length - v.replace(MASK_CHAR, '').length;
  if (masks < 3) return false;
  const rest = v.replace(MASK_CHAR, '').replace(SEPARATORS, '');
  return rest.length <= 4 && masks >= rest.length * 2;
}

/**
 * Filler typed into a token shape: a run of 8 or more ascending digits (`ntn_12345678901…`,
 * `ghp_0123456789…`, `dapi1234567890…`). In a generated token each of the seven following digits would have to
 * be the next one by chance, which almost never happens; documentation and test fixtures do it all the time. Letters are not counted: `abcdefgh…` bodies are how scanners'
 * own rule tests spell format-valid tokens. Not used under password names, where `12345678` is a (weak)
 * password.
 */
export function hasSequentialFiller(value: string): boolean {
  let run = 1;
  for (let i = 1; i < value.length; i++) {
    const prev = value.charCodeAt(i - 1);
    const next = value.charCodeAt(i);
    const ascending =
      isDigitCode(prev) && isDigitCode(next) && (next === prev + 1 || (prev === 57 && next === 48));
    run = ascending ? run + 1 : 1;
    if (run >= 8) return true;
  }
  return false;
}

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** A documentation placeholder, not a value anyone could log in with. */
export function isPlaceholder(value: string): boolean {
  const v = value.trim();
  if (v === '') return true;
  if (BRACKETED.test(v) || NON_VALUE.test(v) || isMasked(v)) return true;
  if (v.includes('EXAMPLE')) return true;
  return (v.length <= 64 && INSTRUCTION.test(v)) || isProse(v);
}

const PROSE_WORD = /^[A-Za-z][A-Za-z'’-]*[.,:;!?)]*$/;
// Sentences that tell the reader where the value comes from: "Get this from the console", "Generate one with
// openssl rand", "Ask your administrator".
const INSTRUCTION_VERBS = new Set([
  'get',
  'obtain',
  'generate',
  'create',
  'copy',
  'paste',
  'fill',
  'provide',
  'supply',
  'specify',
  'replace',
  'change',
  'use',
  'see',
  'ask',
  'request',
  'find',
  'fetch',
  'retrieve',
  'configure',
  'define',
  'update',
  'must',
  'should',
  'will',
  'to',
]);
const FUNCTION_WORDS = new Set([
  'the',
  'this',
  'that',
  'from',
  'your',
  'with',
  'in',
  'at',
  'of',
  'for',
  'a',
  'an',
]);

/**
 * Prose rather than a credential: three or more plain words starting with an instruction ("Get this from the
 * console"), or five or more that read as a sentence. A two-word value such as "hello world" stays a password.
 */
export function isProse(value: string): boolean {
  const words = value.trim().split(/\s+/, 33);
  if (words.length < 3 || words.length > 32 || !words.every((w) => PROSE_WORD.test(w))) return false;
  const lower = words.map((w) => w.toLowerCase().replace(/[^a-z'’-]/g, ''));
  if (INSTRUCTION_VERBS.has(lower[0] ?? '')) return true;
  return words.length >= 5 && lower.some((w) => FUNCTION_WORDS.has(w));
}

/** `DB_PASSWORD=DB_PASSWORD`, `API_TOKEN=api-token`: the value only repeats its own variable's name. */
export function isOwnName(name: string, value: string): boolean {
  const normalize = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '');
  const n = normalize(name);
  return n !== '' && normalize(value.trim()) === n;
}

// `MYSQL_ROOT_PASSWORD`, `SPRING_DATASOURCE_PASSWORD`: an upper-case identifier with at least two words is the
// name of the variable that holds the secret (a template or an entrypoint resolves it), not the secret.
const VARIABLE_NAME = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;

export function isVariableName(value: string): boolean {
  const v = value.trim();
  return v.length <= 128 && VARIABLE_NAME.test(v) && /[A-Z]{2}/.test(v);
}

// Where the secret lives, resolved at run time: HashiCorp Vault (`vault:secret/data/app#password`, the vals
// `ref+vault://` form, Vault transit ciphertext `vault:v1:…`), AWS Secrets Manager and Parameter Store
// (`secretsmanager:…`, `ssm:/…`, ARNs), Google Secret Manager (`sm://…`, `projects/…/secrets/…`), Azure Key Vault
// (`@Microsoft.KeyVault(…)`, `akv://…`), 1Password (`op://…`) and similar.
const SECRET_STORE_REFERENCE =
  /^(?:ref\+)?(?:vault|secretsmanager|secretmanager|aws-?sm|awssecrets|ssm|parameterstore|gsm|gcpsm|gcp-?secretmanager|sm|azkv|akv|keyvault|azure-?keyvault|op|bws|bitwarden|doppler|infisical|sops|conjur|onepassword|k8s-?secret)(?::\/\/|:)\S{1,1024}$/i;
const SECRET_STORE_ARN = /^arn:aws[a-z-]{0,16}:(?:secretsmanager|ssm):[a-z0-9-]{0,32}:\d{0,12}:\S{1,1024}$/;
const GCP_SECRET_NAME = /^projects\/[^/\s]{1,128}\/secrets\/[^/\s]{1,256}(?:\/versions\/[^/\s]{1,64})?$/;
const AZURE_KEY_VAULT_REFERENCE = /^@Microsoft\.KeyVault\([^()]{1,1024}\)$/;

export function isSecretStoreReference(value: string): boolean {
  const v = value.trim();
  return (
    SECRET_STORE_REFERENCE.test(v) ||
    SECRET_STORE_ARN.test(v) ||
    GCP_SECRET_NAME.test(v) ||
    AZURE_KEY_VAULT_REFERENCE.test(v)
  );
}

/**
 * Not a literal credential, whatever the name: a placeholder, a reference to a variable or a secret store, or
 * the name of the variable that holds the secret. Every embedded value (a URL password, a connection-string
 * `Password=`, an option's value) goes through this too.
 */
export function isNotLiteral(value: string): boolean {
  const v = value.trim();
  return (
    isPlaceholder(v) ||
    isOnlyReference(v) ||
    isSecretStoreReference(v) ||
    isVariableName(v) ||
    isBooleanish(v)
  );
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
