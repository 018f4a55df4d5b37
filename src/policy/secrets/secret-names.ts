// What a variable NAME says about its value. The name alone never makes a finding (see detect.ts); it decides
// how much evidence the value needs. Names are split into words on `_`, `-`, `.` and camelCase humps, so
// `PASS` matches `MYSQL_PASS` but not `PASSENGER_APP_ENV` or `BYPASS`.

/**
 * - password: any literal value is a credential (PASSWORD, PASSWD, PASS, PASSPHRASE, SECRET, CREDENTIALS, a
 *   trailing AUTH such as NEO4J_AUTH=user/pass).
 * - token: any literal that is not a placeholder is a credential (TOKEN, API_KEY, ACCESS_KEY, PRIVATE_KEY ...).
 * - key: a bare KEY; only generated-looking values count, since official images use *_KEY for GPG
 *   fingerprints and settings.
 * - none: not secret-ish, or qualified by a trailing word that makes it metadata (`*_FILE`, `*_PATH`,
 *   `*_METHOD`, `*_ID`, `*_SHA256` ...).
 */
export type SecretNameClass = 'password' | 'token' | 'key' | 'none';

export type SecretName = {
  class: SecretNameClass;
  /** GPG/PGP naming: hex fingerprints and key ids under it are public identifiers. */
  gpg: boolean;
  /** The name mentions AWS (for the context-only AWS secret access key shape). */
  aws: boolean;
};

const PASSWORD_WORDS = new Set([
  'PASSWORD',
  'PASSWORDS',
  'PASSWD',
  'PASS',
  'PASSPHRASE',
  'PASSCODE',
  'PWD',
  'SECRET',
  'SECRETS',
  'CREDENTIAL',
  'CREDENTIALS',
  'CREDS',
]);
const TOKEN_WORDS = new Set(['TOKEN', 'TOKENS', 'APIKEY', 'APIKEYS', 'BEARER', 'JWT', 'PAT', 'WEBHOOK']);
// Words that, before KEY, make it a credential rather than an identifier or a GPG key.
const KEY_QUALIFIERS = new Set([
  'API',
  'ACCESS',
  'SECRET',
  'PRIVATE',
  'ENCRYPTION',
  'DECRYPTION',
  'SIGNING',
  'MASTER',
  'APP',
  'AUTH',
  'CLIENT',
  'SESSION',
  'LICENSE',
  'ACCOUNT',
  'STORAGE',
  'SERVICE',
  'ROLE',
  'ADMIN',
  'WRITE',
  'DEPLOY',
  'SSH',
  'AGE',
  'HMAC',
  'CIPHER',
  'CRYPT',
  'CRYPTO',
]);
const KEY_WORDS = new Set(['KEY', 'KEYS']);
// A trailing word that turns the name into metadata about a secret rather than the secret itself.
const METADATA_SUFFIXES = new Set([
  'FILE',
  'FILES',
  'FILENAME',
  'PATH',
  'PATHS',
  'DIR',
  'DIRS',
  'DIRECTORY',
  'FOLDER',
  'LOCATION',
  'METHOD',
  'METHODS',
  'TYPE',
  'MODE',
  'LENGTH',
  'LEN',
  'SIZE',
  'ALGORITHM',
  'ALGO',
  'POLICY',
  'ID',
  'IDS',
  'NAME',
  'USER',
  'USERNAME',
  'HOST',
  'PORT',
  'VERSION',
  'ENABLED',
  'REQUIRED',
  'COUNT',
  'EXPIRY',
  'EXPIRES',
  'TTL',
  'TIMEOUT',
  'HEADER',
  'PREFIX',
  'FIELD',
  'FORMAT',
  'SHA',
  'SHA1',
  'SHA256',
  'SHA384',
  'SHA512',
  'MD5',
  'CHECKSUM',
  'CHECKSUMS',
  'SUM',
  'DIGEST',
  'HASH',
  'FINGERPRINT',
  'FINGERPRINTS',
  'FPR',
  'URL',
  'URI',
  'ENDPOINT',
  'SERVER',
  'SERVERS',
  'KEYRING',
  'KEYSERVER',
  'ASC',
  'SIG',
  // Settings about a secret rather than the secret: lifetimes, limits, policies, helpers.
  'LIFETIME',
  'DAYS',
  'HOURS',
  'MINUTES',
  'SECONDS',
  'EXPIRATION',
  'EXPIRE',
  'MIN',
  'MAX',
  'LIMIT',
  'RETRIES',
  'ATTEMPTS',
  'ROTATION',
  'INTERVAL',
  'DURATION',
  'STRENGTH',
  'COMPLEXITY',
  'LEVEL',
  'ROUNDS',
  'ITERATIONS',
  'ENCODING',
  'CHARSET',
  'ISSUER',
  'AUDIENCE',
  'SCOPE',
  'SCOPES',
  'REALM',
  'PROVIDER',
  'BACKEND',
  'STORE',
  'SOCK',
  'SOCKET',
  'COMMAND',
  'CMD',
  'SCRIPT',
  'HELPER',
  'PATTERN',
  'REGEX',
  // `--password-stdin`, `--passphrase-fd 0`: where a secret is read from.
  'STDIN',
  'FD',
  'PROMPT',
]);
// Huawei Cloud (`CLOUD_SDK_AK`/`CLOUD_SDK_SK`), Qiniu, Baidu and others name the pair AK (access key id) and
// SK (secret access key). As the last word they need a generated-looking value, like a bare KEY.
const KEY_PAIR_ABBREVIATIONS = new Set(['AK', 'SK']);
const GPG_WORDS = /^(?:GPG|PGP|GNUPG|GPGKEY|GPGKEYS|PGPKEY|PGPKEYS|KEYID|KEYIDS)$/;

/** Splits a variable name into upper-case words: `dbPassword` → DB, PASSWORD; `NGINX_GPGKEY` → NGINX, GPGKEY. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w.toUpperCase());
}

function compoundEndsWith(word: string, suffixes: Iterable<string>): boolean {
  for (const s of suffixes) if (word.length > s.length && word.endsWith(s)) return true;
  return false;
}

export function classifySecretName(name: string): SecretName {
  const words = nameWords(name.slice(0, 256));
  const gpg = words.some((w) => GPG_WORDS.test(w));
  const aws = words.includes('AWS');
  const last = words.at(-1);
  // `PWD`/`OLDPWD` alone are the shell's working directories, not passwords.
  if (last === undefined || METADATA_SUFFIXES.has(last) || (words.length === 1 && last === 'PWD')) {
    return { class: 'none', gpg, aws };
  }
  let cls: SecretNameClass = KEY_PAIR_ABBREVIATIONS.has(last) && words.length > 1 ? 'key' : 'none';
  for (const [i, w] of words.entries()) {
    if (PASSWORD_WORDS.has(w) || compoundEndsWith(w, ['PASSWORD', 'PASSWD', 'SECRET', 'PASSPHRASE'])) {
      return { class: 'password', gpg, aws };
    }
    const isLast = i === words.length - 1;
    if (w === 'AUTH' && isLast && words.length > 1) return { class: 'password', gpg, aws };
    // RABBITMQ_ERLANG_COOKIE: the Erlang distribution cookie is a shared secret; other *_COOKIE_* are settings.
    if (w === 'COOKIE' && isLast) cls = 'token';
    else if (TOKEN_WORDS.has(w) || compoundEndsWith(w, ['TOKEN', 'APIKEY'])) cls = 'token';
    else if (KEY_WORDS.has(w) || (compoundEndsWith(w, ['KEY', 'KEYS']) && !GPG_WORDS.test(w))) {
      const before = words[i - 1];
      const qualified =
        (before !== undefined && KEY_QUALIFIERS.has(before)) || /^(?:API|SSH|AGE)KEYS?$/.test(w);
      if (qualified) cls = 'token';
      else if (cls === 'none') cls = 'key';
    }
  }
  return { class: cls, gpg, aws };
}

/**
 * The id half of a cloud access key pair: `*_ACCESS_KEY_ID`, `*_ACCESSKEY_ID`, `*_SECRET_ID` (Tencent
 * SecretId, Vault AppRole secret_id), `*_ACCESS_ID`, `*_AK_ID`. Its value is judged by shape, since `ID`
 * otherwise makes a name metadata.
 */
export function isAccessKeyIdName(name: string): boolean {
  const words = nameWords(name.slice(0, 256));
  const [a, b, c] = words.slice(-3);
  if (c !== 'ID') return false;
  return (
    (a === 'ACCESS' && b === 'KEY') || b === 'ACCESSKEY' || b === 'SECRET' || b === 'ACCESS' || b === 'AK'
  );
}

// Variables that hold a command line or its options: JAVA_OPTS, MAVEN_OPTS, JAVA_TOOL_OPTIONS, CMD_ARGS,
// EXTRA_ARGS, JVM_ARGS, KAFKA_OPTS, NODE_OPTIONS.
const OPTION_LIST_WORDS = new Set([
  'OPTS',
  'OPTIONS',
  'OPT',
  'ARGS',
  'ARGV',
  'ARGUMENTS',
  'PARAMS',
  'PARAMETERS',
]);

/** The name says the value is a list of command-line options (see option-credentials.ts). */
export function isOptionListName(name: string): boolean {
  const last = nameWords(name.slice(0, 256)).at(-1);
  return last !== undefined && (OPTION_LIST_WORDS.has(last) || /(?:OPTS|ARGS)$/.test(last));
}
