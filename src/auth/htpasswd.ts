import { readFileSync } from 'node:fs';

/** A problem with the htpasswd file: start-up stops with it. Never holds a hash or a password. */
export class AuthConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthConfigError';
  }
}

// Apache htpasswd -B writes `$2y$`; OpenBSD and node bcrypt write `$2a$`/`$2b$`. MD5 (`$apr1$`), SHA1
// (`{SHA}`), crypt and plain text are refused: they are fast to brute-force (Apache docs, "Password Formats").
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/** Users and their bcrypt hashes from an htpasswd-format file (`name:hash` per line, `#` comments). */
export function parseHtpasswd(text: string, file: string): Map<string, string> {
  const users = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const where = `${file}:${i + 1}`;
    if (colon <= 0) throw new AuthConfigError(`${where}: expected name:hash`);
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (!BCRYPT.test(hash)) {
      throw new AuthConfigError(
        `${where}: user "${user}" has a ${hashKind(hash)} hash; only bcrypt is accepted (create it with htpasswd -B)`,
      );
    }
    if (users.has(user)) throw new AuthConfigError(`${where}: user "${user}" is listed twice`);
    users.set(user, hash);
  });
  return users;
}

function hashKind(hash: string): string {
  if (hash.startsWith('$apr1$')) return 'MD5 ($apr1$)';
  if (hash.startsWith('{SHA}')) return 'SHA-1 ({SHA})';
  if (hash.startsWith('$1$')) return 'MD5-crypt ($1$)';
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) return 'SHA-crypt';
  if (hash.startsWith('$2')) return 'malformed bcrypt';
  return 'non-bcrypt (crypt or plain text)';
}

export function readHtpasswd(file: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AuthConfigError(
      `${file}: cannot read the htpasswd file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  return parseHtpasswd(text, file);
}
