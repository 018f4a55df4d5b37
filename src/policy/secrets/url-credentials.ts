import { isOnlyReference, isPlaceholder } from './placeholders.js';

// RFC 3986 §3.2.1 userinfo: `scheme://user:password@host`. The password part is the secret; a URL with a
// user name only (`https://token@host` aside) or with a masked or referenced password is not a finding.
// Bounded repeats keep the unanchored search linear.
const URL_WITH_PASSWORD =
  /(?<![A-Za-z0-9+.-])([a-zA-Z][a-zA-Z0-9+.-]{1,30}):\/\/([^\s:@/?#]{0,256}):([^\s@/?#]{1,256})@[^\s/?#@]{1,256}/g;

export function findUrlCredentials(
  text: string,
): { kind: 'url-credentials'; description: string } | undefined {
  for (const match of text.matchAll(URL_WITH_PASSWORD)) {
    const password = decodeSafely(match[3] ?? '');
    if (password === '' || isPlaceholder(password) || isOnlyReference(password)) continue;
    const scheme = (match[1] ?? '').toLowerCase();
    return {
      kind: 'url-credentials',
      description: DATABASE_SCHEMES.test(scheme)
        ? 'a connection string with a password'
        : 'a URL with a password in it',
    };
  }
  return undefined;
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
