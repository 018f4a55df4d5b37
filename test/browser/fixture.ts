import { afterAll, beforeAll } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { TagStore } from '../../src/store/tag-store.js';
import { skopeoInspect } from '../helpers/clients/skopeo.js';
import { type ConsoleUser, writeUsersFile } from '../helpers/console.js';
import { buildChangedImage, pushImage, testImages } from '../helpers/images.js';
import { type Pullgate, startPullgate } from '../helpers/pullgate.js';
import { type Registry, startRegistry } from '../helpers/registry.js';
import { makeTempDir, type TempDir } from '../helpers/tmp.js';

export const REPO = 'library/web';
/** A label value from the upstream that must render as text, never run. */
export const SCRIPT_LABEL = '<script>document.title="owned"</script>';
export const USERS: Record<'alice' | 'victor' | 'rita' | 'ada', ConsoleUser> = {
  alice: { name: 'alice', password: 'alice-pass-41d7', role: 'reviewer' },
  victor: { name: 'victor', password: 'victor-pass-9b02', role: 'viewer' },
  rita: { name: 'rita', password: 'rita-pass-c3e8', role: 'reviewer' },
  ada: { name: 'ada', password: 'ada-pass-5f61', role: 'admin' },
};

export interface ConsoleFixture {
  registry: Registry;
  pullgate: Pullgate;
  work: TempDir;
  /** Tag → the alert its real overwrite opened, with both digests. */
  alerts: Record<string, { id: number; oldDigest: string; newDigest: string }>;
}

/**
 * The real registry, pullgate in front of it with a users file, and one alert per tag raised for real: skopeo
 * pulls the tag through pullgate, the tag is overwritten on the registry by a skopeo push of a changed image
 * (a `<script>` label, another cmd), and the next pull through pullgate is pinned and opens the alert.
 */
export function useConsoleFixture(tags: readonly string[], env: Record<string, string> = {}): ConsoleFixture {
  const f = { alerts: {} } as ConsoleFixture;
  beforeAll(async () => {
    f.work = await makeTempDir('console');
    const [registry, layout, changed] = await Promise.all([
      startRegistry(),
      testImages(),
      buildChangedImage(f.work.path, [
        '--config.label',
        `note=${SCRIPT_LABEL}`,
        '--config.exposedports',
        '8080/tcp',
        '--config.env',
        'APP_MODE=blue-secret-value-77',
      ]),
    ]);
    f.registry = registry;
    f.pullgate = await startPullgate({
      env: {
        PULLGATE_UPSTREAM: registry.url,
        PULLGATE_TAG_TTL: '0',
        PULLGATE_USERS_FILE: await writeUsersFile(f.work.path, Object.values(USERS)),
        ...env,
      },
    });
    for (const tag of tags) {
      const oldDigest = await pushImage(layout.dir, 'nonroot', registry, REPO, tag);
      await skopeoInspect(`${f.pullgate.host}/${REPO}:${tag}`);
      const newDigest = await pushImage(changed, 'changed', registry, REPO, tag);
      await skopeoInspect(`${f.pullgate.host}/${REPO}:${tag}`);
      f.alerts[tag] = { id: 0, oldDigest, newDigest };
    }
    // The ids as the store has them (a second connection to the same SQLite file; WAL allows it).
    const store = await openStore({ dataDir: f.pullgate.dataDir });
    try {
      for (const a of await new TagStore(store.db).listAlerts({ repository: REPO, limit: 100 })) {
        const known = f.alerts[a.tag];
        if (known !== undefined && a.new_digest === known.newDigest) known.id = a.id;
      }
    } finally {
      await store.close();
    }
    for (const [tag, a] of Object.entries(f.alerts)) if (a.id === 0) throw new Error(`no alert for ${tag}`);
  });
  afterAll(async () => {
    await f.pullgate?.stop();
    await f.registry?.stop();
    await f.work?.cleanup();
  });
  return f;
}
