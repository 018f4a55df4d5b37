import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthConfigError, createAuthenticator } from '../../../src/auth/index.js';
import { isRegistryError } from '../../../src/oci/errors.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

const htpasswd = (...args: string[]) => execFileSync('htpasswd', args, { encoding: 'utf8' }).trim();
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

let dir: TempDir;
let app: FastifyInstance;
let file: string;

beforeAll(async () => {
  dir = await makeTempDir('htpasswd');
  file = join(dir.path, 'htpasswd');
  // Real files from Apache's htpasswd: bcrypt ($2y$) at cost 10 and the default cost 5.
  await writeFile(
    file,
    `# pull users\n${htpasswd('-Bbn', '-C', '10', 'alice', 'alice-pass')}\n${htpasswd('-Bbn', 'ci-bot', 'bot pass:with colon')}\n`,
  );
  app = Fastify();
  const anonymousOk = createAuthenticator({ htpasswdFile: file, allowAnonymous: true });
  const required = createAuthenticator({ htpasswdFile: file, allowAnonymous: false });
  app.setErrorHandler((err, _req, reply) => {
    if (isRegistryError(err))
      return reply.code(err.status).headers(err.headers).send({ code: err.code, message: err.message });
    return reply.code(500).send({ message: 'bug' });
  });
  app.get('/v2/', async (req) => ({ user: (await anonymousOk(req)) ?? null }));
  app.get('/v2/open/manifests/x', async (req) => ({ user: (await anonymousOk(req)) ?? null }));
  app.get('/v2/closed/manifests/x', async (req) => ({ user: (await required(req)) ?? null }));
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await dir?.cleanup();
});

const get = (url: string, authorization?: string) =>
  app.inject({ method: 'GET', url, headers: authorization === undefined ? {} : { authorization } });

// Client authentication from an htpasswd file of bcrypt users, with a Basic challenge.
describe('htpasswd authentication', () => {
  it('names the user for good credentials, including passwords with colons', async () => {
    expect((await get('/v2/open/manifests/x', basic('alice', 'alice-pass'))).json()).toEqual({
      user: 'alice',
    });
    expect((await get('/v2/open/manifests/x', basic('ci-bot', 'bot pass:with colon'))).json()).toEqual({
      user: 'ci-bot',
    });
  });

  it('answers wrong credentials and unknown users with 401 and a Basic challenge', async () => {
    for (const auth of [basic('alice', 'wrong'), basic('mallory', 'alice-pass'), 'Bearer abc', 'Basic !!!']) {
      const res = await get('/v2/open/manifests/x', auth);
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="pullgate"');
      expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    }
  });

  it('serves anonymous pulls when allowed, but challenges the /v2/ ping so login clients send credentials', async () => {
    expect((await get('/v2/open/manifests/x')).json()).toEqual({ user: null });
    // containers/image sends an empty Basic pair when it has no credentials.
    expect((await get('/v2/open/manifests/x', basic('', ''))).json()).toEqual({ user: null });
    const ping = await get('/v2/');
    expect(ping.statusCode).toBe(401);
    expect(ping.headers['www-authenticate']).toBe('Basic realm="pullgate"');
    expect((await get('/v2/', basic('alice', 'alice-pass'))).json()).toEqual({ user: 'alice' });
  });

  it('refuses anonymous pulls when anonymous access is off', async () => {
    const res = await get('/v2/closed/manifests/x');
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="pullgate"');
    expect((await get('/v2/closed/manifests/x', basic('alice', 'alice-pass'))).json()).toEqual({
      user: 'alice',
    });
  });

  it('caches a verified header briefly: the second check skips bcrypt', async () => {
    const auth = basic('alice', 'alice-pass');
    const fresh = createAuthenticator({ htpasswdFile: file });
    const request = {
      headers: { authorization: auth },
      raw: { url: '/v2/a/manifests/b' },
    } as unknown as Parameters<typeof fresh>[0];
    const compare = vi.spyOn(bcrypt, 'compare');
    try {
      expect(await fresh(request)).toBe('alice');
      expect(await fresh(request)).toBe('alice');
      expect(compare).toHaveBeenCalledTimes(1);
    } finally {
      compare.mockRestore();
    }
  });

  it('refuses non-bcrypt hashes and unusable setups with a clear configuration error', async () => {
    const md5 = join(dir.path, 'md5');
    await writeFile(md5, `${htpasswd('-mbn', 'bob', 'pw')}\n`);
    expect(() => createAuthenticator({ htpasswdFile: md5 })).toThrow(AuthConfigError);
    expect(() => createAuthenticator({ htpasswdFile: md5 })).toThrow(
      /md5:1: user "bob" has a MD5 \(\$apr1\$\) hash; only bcrypt is accepted/,
    );
    const sha = join(dir.path, 'sha');
    await writeFile(sha, `${htpasswd('-sbn', 'bob', 'pw')}\n`);
    expect(() => createAuthenticator({ htpasswdFile: sha })).toThrow(/SHA-1/);
    expect(() => createAuthenticator({ htpasswdFile: join(dir.path, 'missing') })).toThrow(
      /cannot read the htpasswd file \(ENOENT\)/,
    );
    expect(() => createAuthenticator({ allowAnonymous: false })).toThrow(/no htpasswd file/);
    const none = createAuthenticator({});
    expect(
      await none({ headers: {}, raw: { url: '/v2/' } } as unknown as Parameters<typeof none>[0]),
    ).toBeUndefined();
  });

  it('never puts the password or the hash in an error', async () => {
    const res = await get('/v2/open/manifests/x', basic('alice', 'not-alice-pass'));
    expect(res.body).not.toContain('not-alice-pass');
    expect(res.body).not.toContain('$2y$');
  });
});
