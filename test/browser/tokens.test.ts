import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, startBrowser } from '../helpers/browser.js';
import { logIn } from '../helpers/console.js';
import { USERS, useConsoleFixture } from './fixture.js';

describe('an admin manages personal API tokens in the console', () => {
  const f = useConsoleFixture([]);
  let browser: Browser;
  beforeAll(async () => {
    browser = await startBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  const whoami = (token: string) =>
    fetch(`${f.pullgate.url}/admin/whoami`, { headers: { authorization: `Bearer ${token}` } });

  it('creates a token shown once that the admin API accepts, then revokes it', async () => {
    const page = await browser.context.newPage();
    await logIn(page, f.pullgate.url, USERS.ada);
    await page.getByRole('link', { name: 'Tokens' }).click();
    await page.getByLabel('Token name').fill('ci-bot');
    await page.getByLabel('Role').selectOption('reviewer');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.waitForLoadState('load');
    const token = (await page.locator('#new-token').textContent()) ?? '';
    expect(token).toMatch(/^pgt_/);
    expect(await (await whoami(token)).json()).toEqual({ name: 'ci-bot', role: 'reviewer', via: 'token' });

    await page.goto(`${f.pullgate.url}/ui/tokens`);
    expect(await page.locator('main').textContent()).not.toContain(token);
    await page.getByRole('button', { name: 'Revoke ci-bot' }).click();
    await page.waitForLoadState('load');
    expect((await whoami(token)).status).toBe(401);
  });

  it('shows no tokens page to a reviewer', async () => {
    const other = await startBrowser();
    try {
      const page = await other.context.newPage();
      await logIn(page, f.pullgate.url, USERS.rita);
      expect(await page.getByRole('link', { name: 'Tokens' }).count()).toBe(0);
      const res = await page.goto(`${f.pullgate.url}/ui/tokens`);
      expect(res?.status()).toBe(403);
    } finally {
      await other.close();
    }
  });
});
