import { verify, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { parseScope, startTokenServer, type TokenServer } from '../../helpers/token-server.js';

interface Jwt {
  header: { alg: string; x5c: string[] };
  claims: Record<string, unknown> & { access: { type: string; name: string; actions: string[] }[] };
  input: string;
  signature: Buffer;
}

function decode(token: string): Jwt {
  const [h = '', c = '', s = ''] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Jwt['header'],
    claims: JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as Jwt['claims'],
    input: `${h}.${c}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function getToken(server: TokenServer, query: string, authorization?: string): Promise<Response> {
  return fetch(`${server.realm}?${query}`, { headers: authorization === undefined ? {} : { authorization } });
}

// The token server issues RS256 JWTs the distribution registry accepts, scoped as asked.
describe('startTokenServer', () => {
  let registry: Registry;
  let server: TokenServer;

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
    if (registry.tokenServer === undefined) throw new Error('token registry without token server');
    server = registry.tokenServer;
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('signs with the key of the certificate it puts in x5c', async () => {
    const res = await getToken(server, 'service=test-registry&scope=repository:library/app:pull');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; access_token: string; expires_in: number };
    expect(body.access_token).toBe(body.token);
    const jwt = decode(body.token);
    expect(jwt.header.alg).toBe('RS256');
    const cert = new X509Certificate(await readFile(server.certPath));
    expect(jwt.header.x5c[0]).toBe(cert.raw.toString('base64'));
    expect(verify('sha256', Buffer.from(jwt.input), cert.publicKey, jwt.signature)).toBe(true);
    const now = Math.floor(Date.now() / 1000);
    expect(jwt.claims).toMatchObject({ iss: 'test-issuer', aud: 'test-registry', sub: '' });
    expect(jwt.claims.exp).toBeGreaterThan(now);
    expect(jwt.claims.nbf).toBeLessThanOrEqual(now);
    expect(typeof jwt.claims.jti).toBe('string');
  });

  it('grants anonymous clients pull only, and credentials what they ask for', async () => {
    const query =
      'service=test-registry&scope=repository:library/app:pull,push&scope=repository:other/x:push';
    const anon = decode(((await (await getToken(server, query)).json()) as { token: string }).token);
    expect(anon.claims.access).toEqual([{ type: 'repository', name: 'library/app', actions: ['pull'] }]);
    const { username, password } = server.credentials;
    const authed = decode(
      ((await (await getToken(server, query, basic(username, password))).json()) as { token: string }).token,
    );
    expect(authed.claims.sub).toBe(username);
    expect(authed.claims.access).toEqual([
      { type: 'repository', name: 'library/app', actions: ['pull', 'push'] },
      { type: 'repository', name: 'other/x', actions: ['push'] },
    ]);
  });

  it('answers 401 to a wrong password and counts every request', async () => {
    const before = server.tokenRequests();
    const res = await getToken(server, 'service=test-registry', basic(server.credentials.username, 'nope'));
    await res.arrayBuffer();
    expect(res.status).toBe(401);
    expect(server.tokenRequests()).toBe(before + 1);
    expect(server.requests().at(-1)).toMatchObject({ authenticated: false, status: 401 });
  });

  it('issues tokens through the OAuth2 password grant', async () => {
    const form = new URLSearchParams({
      grant_type: 'password',
      service: 'test-registry',
      scope: 'repository:library/app:pull',
      client_id: 'test',
      ...server.credentials,
    });
    const res = await fetch(server.realm, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    expect(decode(access_token).claims.sub).toBe(server.credentials.username);
  });

  it('makes tokens the registry accepts, and the registry rejects a foreign signer', async () => {
    const good = server.issue([{ type: 'repository', name: 'library/app', actions: ['pull'] }]);
    const ok = await fetch(`${registry.url}/v2/`, { headers: { authorization: `Bearer ${good}` } });
    await ok.arrayBuffer();
    expect(ok.status).toBe(200);

    const foreign = await startTokenServer();
    try {
      const bad = foreign.issue([{ type: 'repository', name: 'library/app', actions: ['pull'] }]);
      const denied = await fetch(`${registry.url}/v2/`, { headers: { authorization: `Bearer ${bad}` } });
      await denied.arrayBuffer();
      expect(denied.status).toBe(401);
    } finally {
      await foreign.stop();
    }
  });

  it('refuses anonymous requests when anonymous tokens are off', async () => {
    const strict = await startTokenServer({ anonymous: false });
    try {
      const res = await getToken(strict, 'service=test-registry&scope=repository:library/app:pull');
      await res.arrayBuffer();
      expect(res.status).toBe(401);
      const { username, password } = strict.credentials;
      const ok = await getToken(strict, 'service=test-registry', basic(username, password));
      await ok.arrayBuffer();
      expect(ok.status).toBe(200);
    } finally {
      await strict.stop();
    }
  });

  it('parses scopes whose repository name holds a port', () => {
    expect(parseScope('repository:127.0.0.1:5000/app:pull,push')).toEqual({
      type: 'repository',
      name: '127.0.0.1:5000/app',
      actions: ['pull', 'push'],
    });
    expect(parseScope('repository(plugin):vieux/sshfs:pull')).toEqual({
      type: 'repository',
      name: 'vieux/sshfs',
      actions: ['pull'],
    });
    expect(parseScope('garbage')).toBeUndefined();
  });
});
