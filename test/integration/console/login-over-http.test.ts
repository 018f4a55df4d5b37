import { writeFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeUsersFile } from '../../helpers/console.js';
import { waitUntil } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

/** One login as a browser does it: the form's CSRF cookie and token, then the POST. */
async function login(pullgate: Pullgate, name: string, password: string) {
  const form = await pullgate.app.inject({ method: 'GET', url: '/ui/login' });
  const csrfCookie = form.cookies.find((c) => c.name === 'pullgate_csrf');
  const token = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
  return pullgate.app.inject({
    method: 'POST',
    url: '/ui/login',
    headers: {
      cookie: `pullgate_csrf=${csrfCookie?.value ?? ''}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload: new URLSearchParams({ name, password, _csrf: token }).toString(),
  });
}

describe('console login behind a TLS-terminating proxy, and the users file reloaded', () => {
  let work: TempDir;
  let pullgate: Pullgate;
  let usersFile: string;

  beforeAll(async () => {
    work = await makeTempDir('console-login');
    usersFile = await writeUsersFile(work.path, [
      { name: 'alice', password: 'alice-pw-1', role: 'reviewer' },
    ]);
    pullgate = await startPullgate({
      env: {
        // Never contacted: these tests only log in.
        PULLGATE_UPSTREAM: 'http://127.0.0.1:9',
        PULLGATE_USERS_FILE: usersFile,
        PULLGATE_PUBLIC_URL: 'https://pullgate.example.test',
        // The reload test polls the login until the new user is in: no lockout for that.
        PULLGATE_UI_LOGIN_PER_ADDRESS: '10000',
        PULLGATE_UI_LOGIN_PER_NAME: '10000',
      },
    });
  });
  afterAll(async () => {
    await pullgate?.stop();
    await work?.cleanup();
  });

  it('sets the session cookie Secure, HttpOnly and SameSite=Strict when the public URL is https', async () => {
    const res = await login(pullgate, 'alice', 'alice-pw-1');
    expect(res.statusCode).toBe(303);
    const session = res.cookies.find((c) => c.name === 'pullgate_session');
    expect(session).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Strict', path: '/ui' });
    expect(res.headers['strict-transport-security']).toContain('max-age=');
  });

  it('lets a user added to the file log in after the file changes, and drops a removed one', async () => {
    expect((await login(pullgate, 'bea', 'bea-pw-2')).statusCode).toBe(401);
    await writeFile(
      usersFile,
      `users:\n  - name: bea\n    password_bcrypt: "${bcrypt.hashSync('bea-pw-2', 4)}"\n    role: viewer\n`,
    );
    await waitUntil(async () => (await login(pullgate, 'bea', 'bea-pw-2')).statusCode === 303, {
      timeoutMs: 10_000,
    });
    expect((await login(pullgate, 'alice', 'alice-pw-1')).statusCode).toBe(401);
  });

  it('keeps the users in force when the changed file is invalid', async () => {
    await writeFile(usersFile, 'users:\n  - name: bea\n    role: owner\n');
    process.kill(process.pid, 'SIGHUP');
    // Reloads are asynchronous; the invalid file never takes effect, so bea keeps logging in.
    await new Promise((r) => setTimeout(r, 500));
    expect((await login(pullgate, 'bea', 'bea-pw-2')).statusCode).toBe(303);
  });
});
