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
});
