import { createHash, createPrivateKey, type KeyObject, randomUUID, sign, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { run } from './proc.js';
import { makeTempDir } from './tmp.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface TokenServerOptions {
  /** The registry's `auth.token.service`; the token's `aud`. */
  service?: string;
  issuer?: string;
  /** Credentials that get every action they ask for; default: a generated user and password. */
  credentials?: Credentials;
  /**
   * Issue tokens to requests without credentials, limited to `pull` (Docker Hub behaviour for
   * public repositories). When false, such requests get 401. Default true.
   */
  anonymous?: boolean;
  /** Token lifetime in seconds. */
  ttlSeconds?: number;
}

export interface AccessClaim {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenRequestRecord {
  method: string;
  scopes: string[];
  account: string | undefined;
  authenticated: boolean;
  status: number;
}

export interface TokenServer {
  /** The `realm` of the Bearer challenge: http://127.0.0.1:PORT/token */
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  credentials: Credentials;
  tokenRequests(): number;
  requests(): TokenRequestRecord[];
  /** Signs a token directly, e.g. to test expiry or foreign scopes. */
  issue(access: AccessClaim[], subject?: string, lifetimeSeconds?: number): string;
  stop(): Promise<void>;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * `repository:NAME:ACTIONS` — NAME may itself contain ':' (a registry host with a port), so the
 * type is the first field and the actions the last (distribution docs/spec/auth/scope.md).
 */
export function parseScope(scope: string): AccessClaim | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last <= first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  const name = scope.slice(first + 1, last);
  const actions = scope
    .slice(last + 1)
    .split(',')
    .filter((a) => a !== '');
  return { type, name, actions };
}

function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

function basicCredentials(req: IncomingMessage): Credentials | undefined {
  const h = req.headers.authorization;
  if (h === undefined || !/^basic /i.test(h)) return undefined;
  const decoded = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    const b = c as Buffer;
    size += b.length;
    if (size > 64 * 1024) throw new Error('token request body too large');
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Generates a throwaway RSA key and self-signed certificate (the registry's `rootcertbundle`). */
export async function makeSigningCert(dir: string): Promise<{ keyPath: string; certPath: string }> {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '1',
    '-subj',
    '/CN=pullgate-test-token-issuer',
  ]);
  return { keyPath, certPath };
}

/**
 * A Docker token server (distribution docs/spec/auth/token.md, jwt.md): GET /token with Basic
 * credentials or none, and the OAuth2 POST form (docs/spec/auth/oauth.md) that containerd tries first.
 */
export async function startTokenServer(opts: TokenServerOptions = {}): Promise<TokenServer> {
  const dir = await makeTempDir('token');
  const { keyPath, certPath } = await makeSigningCert(dir.path);
  const key: KeyObject = createPrivateKey(await readFile(keyPath, 'utf8'));
  const certPem = await readFile(certPath, 'utf8');
  // x5c carries base64 DER, which is exactly the PEM body (RFC 7515 §4.1.6).
  const x5c = certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const service = opts.service ?? 'test-registry';
  const issuer = opts.issuer ?? 'test-issuer';
  const credentials = opts.credentials ?? { username: 'tester', password: `pw-${randomUUID()}` };
  const anonymous = opts.anonymous ?? true;
  const ttl = opts.ttlSeconds ?? 300;
  const log: TokenRequestRecord[] = [];

  const issue = (access: AccessClaim[], subject = '', lifetimeSeconds = ttl): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [x5c] };
    const claims = {
      iss: issuer,
      sub: subject,
      aud: service,
      exp: now + lifetimeSeconds,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://token.invalid');
    if (url.pathname !== '/token') {
      send(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'no such endpoint' }] });
      return;
    }
    let params = url.searchParams;
    let given = basicCredentials(req);
    if (req.method === 'POST') {
      params = new URLSearchParams(await readBody(req));
      const username = params.get('username');
      const password = params.get('password');
      if (params.get('grant_type') === 'password' && username !== null && password !== null) {
        given = { username, password };
      }
    } else if (req.method !== 'GET') {
      send(res, 405, { errors: [{ code: 'UNSUPPORTED', message: 'method not allowed' }] });
      return;
    }
    const scopes = params.getAll('scope').flatMap((s) => s.split(' ').filter((x) => x !== ''));
    const record: TokenRequestRecord = {
      method: req.method,
      scopes,
      account: params.get('account') ?? given?.username,
      authenticated: false,
      status: 200,
    };
    log.push(record);
    if (params.get('service') !== null && params.get('service') !== service) {
      record.status = 400;
      send(res, 400, { errors: [{ code: 'UNSUPPORTED', message: 'unknown service' }] });
      return;
    }
    if (given !== undefined) {
      const ok =
        safeEqual(given.username, credentials.username) && safeEqual(given.password, credentials.password);
      if (!ok) {
        record.status = 401;
        send(
          res,
          401,
          { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
          {
            'www-authenticate': 'Basic realm="token"',
          },
        );
        return;
      }
      record.authenticated = true;
    } else if (!anonymous) {
      record.status = 401;
      send(
        res,
        401,
        { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
        {
          'www-authenticate': 'Basic realm="token"',
        },
      );
      return;
    }
    const access = scopes
      .map(parseScope)
      .filter((a): a is AccessClaim => a !== undefined)
      .map((a) => (record.authenticated ? a : { ...a, actions: a.actions.filter((x) => x === 'pull') }))
      .filter((a) => a.actions.length > 0);
    const token = issue(access, record.authenticated ? credentials.username : '');
    send(res, 200, { token, access_token: token, expires_in: ttl, issued_at: new Date().toISOString() });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { errors: [{ code: 'UNKNOWN', message: String(e) }] });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    credentials,
    tokenRequests: () => log.length,
    requests: () => log.map((r) => ({ ...r, scopes: [...r.scopes] })),
    issue,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dir.cleanup();
    },
  };
}
