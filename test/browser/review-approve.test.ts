import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRecords } from '../../src/audit/query.js';
import { type Browser, startBrowser } from '../helpers/browser.js';
import { skopeoInspect } from '../helpers/clients/skopeo.js';
import { expectLoggedIn, logIn } from '../helpers/console.js';
import { REPO, USERS, useConsoleFixture } from './fixture.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'console');
const TAG = '2.4.1';

describe('a reviewer approves a real tag overwrite in the console, and the new digest is served', () => {
  const f = useConsoleFixture([TAG]);
  let browser: Browser;
  beforeAll(async () => {
    browser = await startBrowser();
    await mkdir(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('logs in, finds the alert, reads the diff, approves with a reason; skopeo then gets the new digest', async () => {
    const alert = f.alerts[TAG];
    if (alert === undefined) throw new Error('fixture has no alert');
    // Before the review the tag is pinned: skopeo gets the old digest.
    expect((await skopeoInspect(`${f.pullgate.host}/${REPO}:${TAG}`)).Digest).toBe(alert.oldDigest);

    const page = await browser.context.newPage();
    await logIn(page, f.pullgate.url, USERS.alice);
    await expectLoggedIn(page, 'alice');
    expect(new URL(page.url()).pathname).toBe('/ui/alerts');
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await page.screenshot({ path: join(ARTIFACTS, `queue-${width}.png`), fullPage: true });
    }

    await page.getByRole('link', { name: `${REPO}:${TAG}` }).click();
    expect(new URL(page.url()).pathname).toBe(`/ui/alerts/${alert.id}`);
    const body = await page.locator('main').textContent();
    expect(body).toContain(alert.oldDigest);
    expect(body).toContain(alert.newDigest);
    expect(body).toContain('Label note');
    expect(body).toContain('8080/tcp');
    expect(body).toContain('APP_MODE');
    expect(body).not.toContain('blue-secret-value-77');
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await page.screenshot({ path: join(ARTIFACTS, `alert-${width}.png`), fullPage: true });
    }

    await page.getByLabel('Reason').fill('rebuilt with the new entrypoint, CHG-2291');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForLoadState('load');
    expect(await page.locator('main').textContent()).toContain('approve by alice (password)');

    expect((await skopeoInspect(`${f.pullgate.host}/${REPO}:${TAG}`)).Digest).toBe(alert.newDigest);
    const reviews = await queryRecords(join(f.pullgate.dataDir, 'audit'), { types: ['review'] });
    expect(reviews.records).toMatchObject([
      { type: 'review', action: 'approve', actor: 'alice', auth: 'password', alertId: String(alert.id) },
    ]);
  });

  it('shows the tag history as a timeline with the review', async () => {
    const alert = f.alerts[TAG];
    const page = await browser.context.newPage();
    await logIn(page, f.pullgate.url, USERS.alice);
    await page.goto(`${f.pullgate.url}/ui/alerts/${alert?.id}`);
    await page.getByRole('link', { name: 'tag history' }).click();
    await page.waitForLoadState('load');
    const items = page.locator('ol.timeline > li');
    expect(await items.count()).toBe(2);
    expect(await items.nth(0).textContent()).toContain(alert?.oldDigest);
    expect(await items.nth(1).textContent()).toContain('approve by alice (password)');
  });

  it('finds the pulls in the decision search and opens a record', async () => {
    const page = await browser.context.newPage();
    await logIn(page, f.pullgate.url, USERS.alice);
    await page.getByRole('link', { name: 'Decisions' }).click();
    await page.getByLabel('Repository').fill(REPO);
    await page.getByLabel('Decision').selectOption('allow');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForLoadState('load');
    expect(new URL(page.url()).searchParams.get('repository')).toBe(REPO);
    const rows = page.locator('main tbody tr');
    expect(await rows.count()).toBeGreaterThan(0);
    await rows.first().getByRole('link').click();
    await page.waitForLoadState('load');
    expect(await page.locator('h1').textContent()).toMatch(/^Decision #\d+: allow$/);
  });

  it('shows the policies in force with their version and the last load', async () => {
    const page = await browser.context.newPage();
    await logIn(page, f.pullgate.url, USERS.alice);
    await page.getByRole('link', { name: 'Policies' }).click();
    await page.waitForLoadState('load');
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toMatch(/Version \S+/);
    expect(text).toContain('start at');
    expect(text).toContain('loaded');
  });

  it('takes a reviewer from the webhook link through the login form straight to the alert', async () => {
    const alert = f.alerts[TAG];
    // A browser of its own: no session yet.
    const fresh = await startBrowser();
    const page = await fresh.context.newPage();
    // The link a webhook carries (PULLGATE_PUBLIC_URL + /ui/alerts/N), opened without a session.
    await page.goto(`${f.pullgate.url}/ui/alerts/${alert?.id}`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await page.getByLabel('Name').fill(USERS.alice.name);
    await page.getByLabel('Password').fill(USERS.alice.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForLoadState('load');
    expect(new URL(page.url()).pathname).toBe(`/ui/alerts/${alert?.id}`);
    await fresh.close();
  });
});
