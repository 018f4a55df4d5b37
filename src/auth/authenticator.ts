import { createHash, randomUUID } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import { RegistryError } from '../oci/errors.js';
import { AuthConfigError, readHtpasswd } from './htpasswd.js';

export interface AuthenticatorOptions {
  /** htpasswd-format file of bcrypt users; without it every client is anonymous. */
  htpasswdFile?: string | undefined;
  /** Serve clients that send no credentials. Default true. */
  allowAnonymous?: boolean;
  /** Seconds a verified Authorization header is trusted without a second bcrypt check. Default 60. */
  cacheSeconds?: number;
  /** Challenge an anonymous `/v2/` ping even when anonymous pulls are allowed (see below). Default true. */
  challengePing?: boolean;
}

/** Who is pulling: the user name, undefined for anonymous; throws UNAUTHORIZED with a Basic challenge. */
export type Authenticator = (request: FastifyRequest) => Promise<string | undefined>;

export const REALM = 'pullgate';
const challenge = { 'www-authenticate': `Basic realm="${REALM}"` };

function unauthorized(message: string): RegistryError {
  return new RegistryError('UNAUTHORIZED', message, { headers: challenge });
}

/**
 * Client authentication with HTTP Basic (RFC 7617) against an htpasswd file. The `/v2/` ping is always
 * challenged when users are configured: docker and podman only send stored credentials after a challenge, and
 * `docker login` only checks a password when challenged, so without it the name would never reach the
 * policies. Anonymous pulls of manifests and blobs are still served when allowed.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const allowAnonymous = options.allowAnonymous ?? true;
  if (options.htpasswdFile === undefined) {
    if (!allowAnonymous) {
      throw new AuthConfigError(
        'anonymous pulls are refused but no htpasswd file is configured (PULLGATE_HTPASSWD)',
      );
    }
    return async () => undefined;
  }
  const users = readHtpasswd(options.htpasswdFile);
  const challengePing = options.challengePing ?? true;
  // Unknown users still cost one bcrypt comparison at the file's cost, so timing does not tell which names exist.
  const firstHash = users.values().next().value;
  const dummyHash = bcrypt.hashSync(randomUUID(), firstHash === undefined ? 10 : bcrypt.getRounds(firstHash));
  // Keyed by a hash of the header, never the header itself: a heap dump or debug print shows no password.
  const verified = new LRUCache<string, string>({ max: 10_000, ttl: (options.cacheSeconds ?? 60) * 1000 });
  const pending = new Map<string, Promise<string | undefined>>();

  const verify = async (authorization: string): Promise<string | undefined> => {
    const key = createHash('sha256').update(authorization).digest('hex');
    const hit = verified.get(key);
    if (hit !== undefined) return hit;
    let check = pending.get(key);
    if (check === undefined) {
      check = checkBasic(authorization, users, dummyHash).finally(() => pending.delete(key));
      pending.set(key, check);
    }
    const user = await check;
    if (user !== undefined) verified.set(key, user);
    return user;
  };

  return async (request) => {
    const authorization = request.headers.authorization;
    const ping = (request.raw.url ?? '').split('?', 1)[0] === '/v2/';
    if (authorization === undefined || authorization === '' || isEmptyBasic(authorization)) {
      if (allowAnonymous && !(ping && challengePing)) return undefined;
      throw unauthorized('authentication required');
    }
    const user = await verify(authorization);
    if (user === undefined) throw unauthorized('invalid username or password');
    return user;
  };
}

/** containers/image sends `Basic Og==` (an empty user and password) when it holds no credentials. */
function isEmptyBasic(authorization: string): boolean {
  const m = /^basic\s+(\S*)\s*$/i.exec(authorization);
  if (m === null) return false;
  return Buffer.from(m[1] ?? '', 'base64').toString('utf8') === ':';
}

async function checkBasic(
  authorization: string,
  users: ReadonlyMap<string, string>,
  dummyHash: string,
): Promise<string | undefined> {
  const m = /^basic\s+(\S+)\s*$/i.exec(authorization);
  if (m === null) return undefined;
  const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  const hash = users.get(user);
  const ok = await bcrypt.compare(password, hash ?? dummyHash);
  return ok && hash !== undefined ? user : undefined;
}
