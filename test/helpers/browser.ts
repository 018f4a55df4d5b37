import { type BrowserContext, chromium } from 'playwright-core';
import { makeTempDir, type TempDir } from './tmp.js';

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Debian's chromium (scripts/install-test-deps.sh), headless, driven by playwright-core: no browser download.
 * Each call gets a fresh profile, so no cookie or cache carries over between tests.
 */
export async function startBrowser(options: { javaScriptEnabled?: boolean } = {}): Promise<Browser> {
  const profile: TempDir = await makeTempDir('chromium-profile');
  const context = await chromium.launchPersistentContext(profile.path, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await profile.cleanup();
    },
  };
}
