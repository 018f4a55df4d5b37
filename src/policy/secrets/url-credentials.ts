import { looksGenerated } from './entropy.js';
import { hasSequentialFiller, isNotLiteral } from './placeholders.js';

// Credentials carried by a URL: the RFC 3986 §3.2.1 userinfo (`scheme://user:password@host`), a query or JDBC
// property parameter (`jdbc:mysql://db/app?user=u&password=p`, `jdbc:sqlserver://db;user=u;password=p`,
// `…?access_token=…`), an Azure shared access signature (`?sv=…&sig=…`), and Oracle's thin-driver
// `jdbc:oracle:thin:user/password@host`. Masked, placeholder or referenced values are not findings. Bounded
// repeats keep the unanchored searches linear.
const URL_WITH_PASSWORD =
  /(?<![A-Za-z0-9+.-])([a-zA-Z][a-zA-Z0-9+.-]{1,30}):\/\/([^\s:@/?#]{0,256}):([^\s@/?#]{1,256})@[^\s/?#@]{1,256}/g;
const ORACLE_THIN = /jdbc:oracle:(?:thin|oci\d?):([^\s/@:'"]{1,128})\/([^\s@'"]{1,256})@/gi;
/** A URL (or a JDBC URL, which need not have `//`) as one word; its parameters are read without a regex. */
const URL_WORD =
  /(?<![A-Za-z0-9+.:-])(?:jdbc:[A-Za-z0-9]{1,20}:|[A-Za-z][A-Za-z0-9+.-]{0,30}:\/\/)[^\s"'<>`]{1,8192}/gi;
const MAX_URLS = 64;
const MAX_PARAMETERS = 64;

const PASSWORD_PARAMETERS = new Set(['password', 'passwd', 'pwd', 'pass', 'passphrase', 'secret']);
const TOKEN_PARAMETERS = new Set([
  'token',
  'access_token',
  'accesstoken',
  'auth_token',
  'authtoken',
  'private_token',
  'api_key',
  'apikey',
  'api-key',
  'client_secret',
  'hapikey',
  'refresh_token',
]);

export type UrlCredential = { kind: string; description: string };

export function findUrlCredentials(text: string): UrlCredential | undefined {
  for (const match of text.matchAll(URL_WITH_PASSWORD)) {
    if (isNotLiteral(decodeSafely(match[3] ?? ''))) continue;
    const scheme = (match[1] ?? '').toLowerCase();
    return {
      kind: 'url-credentials',
      description: DATABASE_SCHEMES.test(scheme)
        ? 'a connection string with a password'
        : 'a URL with a password in it',
    };
  }
  for (const match of text.matchAll(ORACLE_THIN)) {
    if (!isNotLiteral(match[2] ?? '')) {
      return { kind: 'url-credentials', description: 'a connection string with a password' };
    }
  }
  let urls = 0;
  for (const match of text.matchAll(URL_WORD)) {
    if (++urls > MAX_URLS) return undefined;
    const found = parameterCredential(match[0]);
    if (found) return found;
  }
  return undefined;
}

/** Query (`?a=1&b=2`) and JDBC property (`;a=1;b=2`) parameters of one URL word. */
function parameterCredential(url: string): UrlCredential | undefined {
  const withoutFragment = url.split('#', 1)[0] ?? '';
  const start = withoutFragment.search(/[?;]/);
  if (start < 0) return undefined;
  const params = new Map<string, string>();
  for (const pair of withoutFragment.slice(start + 1).split(/[&;?]/, MAX_PARAMETERS)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    params.set(decodeSafely(pair.slice(0, eq)).trim().toLowerCase(), decodeSafely(pair.slice(eq + 1)));
  }
  const jdbc = /^jdbc:/i.test(url);
  for (const [key, value] of params) {
    if (PASSWORD_PARAMETERS.has(key) && isLiteral(value)) {
      return {
        kind: 'url-credentials',
        description: jdbc ? 'a JDBC URL with a password' : 'a URL with a password in its parameters',
      };
    }
    if (TOKEN_PARAMETERS.has(key) && isLiteral(value) && looksLikeToken(value)) {
      return { kind: 'url-credentials', description: 'a URL with a token in its parameters' };
    }
  }
  // Azure shared access signature: a signed version (`sv=`) and the signature itself (`sig=`).
  const sig = params.get('sig');
  if (params.has('sv') && sig !== undefined && isLiteral(sig) && sig.length >= 16) {
    return { kind: 'azure-shared-access-signature', description: 'a URL with a shared access signature' };
  }
  return undefined;
}

function isLiteral(value: string): boolean {
  return value !== '' && !isNotLiteral(value);
}

function looksLikeToken(value: string): boolean {
  return value.length >= 8 && !/^\d+$/.test(value) && !hasSequentialFiller(value) && looksGenerated(value);
}

const DATABASE_SCHEMES =
  /^(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|jdbc:.*|mssql|sqlserver|oracle|cockroachdb|clickhouse|nats|kafka)$/;

function decodeSafely(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
