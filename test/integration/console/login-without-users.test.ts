import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeUsersFile } from '../../helpers/console.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// Without PULLGATE_USERS_FILE nobody can log in to the console (the POST refuses). The login page says so before
// anyone types a password, instead of a form that can only fail (seen in a README walk-through). Real HTTP over a
// loopback socket to a pullgate with no users file, and one with a file.
const upstream = 'http://127.0.0.1:9'; // never contacted: these tests only load the login page
const notice = 'No console users are configured';
let without: Pullgate;
let withUsers: Pullgate;
let work: TempDir;

beforeAll(async () => {
  work = await makeTempDir('login-no-users');
  const usersFile = await writeUsersFile(work.path, [
    { name: 'alice', password: 'alice-pw-1', role: 'reviewer' },
  ]);
  without = await startPullgate({ env: { PULLGATE_UPSTREAM: upstream } });
  withUsers = await startPullgate({ env: { PULLGATE_UPSTREAM: upstream, PULLGATE_USERS_FILE: usersFile } });
});
afterAll(async () => {
  await without?.stop();
  await withUsers?.stop();
  await work?.cleanup();
});

describe('the console login page', () => {
  it('says that no users are configured and names the setting, when there is no users file', async () => {
    const res = await fetch(`${without.url}/ui/login`);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain(notice);
    expect(body).toContain('PULLGATE_USERS_FILE');
  });

  it('does not say so when a users file is configured', async () => {
    const res = await fetch(`${withUsers.url}/ui/login`);
    expect(res.status).toBe(200);
    expect(await res.text()).not.toContain(notice);
  });
});
