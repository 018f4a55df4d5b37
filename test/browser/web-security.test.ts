import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Browser, startBrowser } from '../helpers/browser.js';
import { expectLoggedIn, logIn } from '../helpers/console.js';
import { type Pullgate, startPullgate } from '../helpers/pullgate.js';
import { REPO, SCRIPT_LABEL, USERS, useConsoleFixture } from './fixture.js';

// PULLGATE_UI_LOGIN_PER_NAME=3: the fourth attempt for one name within the window is refused.
const f = useConsoleFixture(['3.0.0', '3.1.0'], { PULLGATE_UI_LOGIN_PER_NAME: '3' });

describe('console web security', () => {
  let browser: Browser;
  beforeEach(async () => {
    browser = await startBrowser();
  });
  afterEach(async () => {
    await browser?.close();
  });

  const alertId = (tag: string) => {
    const a = f.alerts[tag];
    if (a === undefined) throw new Error(`no alert for ${tag}`);
    return a.id;
  };

  /** The CSRF token the page's own forms carry (every page has one in the logout form). */
  const csrfOf = async (page: import('playwright-core').Page) =>
    (await page.locator('input[name="_csrf"]').first().getAttribute('value')) ?? '';

  it('shows a viewer the alert without review buttons and refuses a forged approve', async () => {
    const page = await browser.context.newPage();
    await logIn(page, f.pullgate.url, USERS.victor);
    await expectLoggedIn(page, 'victor');
    await page.goto(`${f.pullgate.url}/ui/alerts`);
    expect(await page.getByRole('link', { name: `${REPO}:3.0.0` }).count()).toBe(1);
    await page.goto(`${f.pullgate.url}/ui/alerts/${alertId('3.0.0')}`);
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Reject' }).count()).toBe(0);
    expect(await page.locator('main').textContent()).toContain('can read alerts but not review them');

    // A well-formed POST with the viewer's own session and a valid CSRF token: refused for the role.
    const forged = await page.request.post(`${f.pullgate.url}/ui/alerts/${alertId('3.0.0')}/review`, {
      form: { _csrf: await csrfOf(page), action: 'approve', reason: 'I am not a reviewer' },
      maxRedirects: 0,
    });
    expect(forged.status()).toBe(403);
    await page.reload();
    expect(await page.locator('main').textContent()).toContain('Not reviewed yet.');
  });

  it('refuses a review POST without the CSRF token', async () => {
    const page = await browser.context.newPage();
    await logIn(page, f.pullgate.url, USERS.rita);
    await page.goto(`${f.pullgate.url}/ui/alerts/${alertId('3.1.0')}`);
    const res = await page.request.post(`${f.pullgate.url}/ui/alerts/${alertId('3.1.0')}/review`, {
      form: { action: 'approve', reason: 'no token' },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(403);
    expect(await res.text()).toContain('CSRF');
    await page.reload();
    expect(await page.locator('main').textContent()).toContain('Not reviewed yet.');
  });

  it('refuses a wrong password with the form shown again and no session', async () => {
    const page = await browser.context.newPage();
    await logIn(page, f.pullgate.url, { name: 'alice', password: 'not-alices-password' });
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    expect(await page.getByRole('alert').textContent()).toContain('Wrong name or password.');
    await page.goto(`${f.pullgate.url}/ui/alerts`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
  });

  it('refuses further logins for a name after repeated wrong passwords, even with the right one', async () => {
    const page = await browser.context.newPage();
    for (let i = 0; i < 3; i++) await logIn(page, f.pullgate.url, { name: 'victor', password: `guess-${i}` });
    await page.goto(`${f.pullgate.url}/ui/login`);
    await page.getByLabel('Name').fill(USERS.victor.name);
    await page.getByLabel('Password').fill(USERS.victor.password);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/ui/login') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Log in' }).click(),
    ]);
    expect(response.status()).toBe(429);
    expect(await page.locator('main').textContent()).toContain('Too many login attempts');
  });

  it('shows a label holding <script> as text and runs nothing from it', async () => {
    const page = await browser.context.newPage();
    await logIn(page, f.pullgate.url, USERS.rita);
    await page.goto(`${f.pullgate.url}/ui/alerts/${alertId('3.0.0')}`);
    expect(await page.locator('main').textContent()).toContain(SCRIPT_LABEL);
    expect(await page.locator('script').count()).toBe(0);
    // The label's script would set the title; the page's own title stands.
    expect(await page.title()).toBe(`Alert ${alertId('3.0.0')} · pullgate`);
    const csp = (await page.request.get(`${f.pullgate.url}/ui/alerts/${alertId('3.0.0')}`)).headers()[
      'content-security-policy'
    ];
    expect(csp).toContain("default-src 'none'");
  });

  it('sets the session cookie HttpOnly and SameSite=Strict, and ends it on logout', async () => {
    const page = await browser.context.newPage();
    await logIn(page, f.pullgate.url, USERS.rita);
    const session = (await browser.context.cookies()).find((c) => c.name === 'pullgate_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui' });
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForLoadState('load');
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await page.goto(`${f.pullgate.url}/ui/alerts`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
  });

  it('reads the queue and an alert with JavaScript disabled', async () => {
    const noJs = await startBrowser({ javaScriptEnabled: false });
    try {
      const page = await noJs.context.newPage();
      await logIn(page, f.pullgate.url, USERS.rita);
      await page.getByRole('link', { name: `${REPO}:3.1.0` }).click();
      await page.waitForLoadState('load');
      expect(await page.locator('main').textContent()).toContain('Label note');
    } finally {
      await noJs.close();
    }
  });
});

describe('an idle console session', () => {
  let idle: Pullgate;
  let browser: Browser;
  beforeAll(async () => {
    idle = await startPullgate({
      env: {
        PULLGATE_UPSTREAM: f.registry.url,
        PULLGATE_USERS_FILE: f.pullgate.config.usersFile ?? '',
        PULLGATE_UI_IDLE_SECONDS: '1',
      },
    });
    browser = await startBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await idle?.stop();
  });

  it('ends after the idle time and sends the next page to the login form', async () => {
    const page = await browser.context.newPage();
    await logIn(page, idle.url, USERS.rita);
    await expectLoggedIn(page, 'rita');
    await new Promise((r) => setTimeout(r, 2200));
    await page.goto(`${idle.url}/ui/alerts`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
  });
});
