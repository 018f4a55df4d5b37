import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/open.js';
import { TagHistory } from '../../../src/tags/history.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { describeFrom, digest, image, observation, offlineRoute } from './fixtures.js';

describe('TagHistory across a restart', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await makeTempDir('restart');
  });
  afterAll(async () => {
    await dir?.cleanup();
  });

  it('keeps history, alerts, pins and reviews when the store is closed and reopened', async () => {
    const [a, b, c] = [digest(21), digest(22), digest(23)];
    const describe = describeFrom(new Map([a, b, c].map((d) => [d, image(d)])));
    const route = offlineRoute('library/redis');
    const signal = AbortSignal.timeout(30_000);
    const key = { upstream: 'registry.test', repository: 'library/redis', tag: '7.2.4' };

    const first = await openStore({ dataDir: dir.path });
    const h1 = new TagHistory({ store: first, describe });
    await h1.observe(observation(route, '7.2.4', a), signal);
    const pinned = await h1.observe(observation(route, '7.2.4', b), signal);
    await h1.reject(Number(pinned.alertId), 'erin', 'not ours');
    const other = await h1.observe(observation(route, '7.2.4', c), signal);
    const before = await h1.history(key);
    await first.close();

    const second = await openStore({ dataDir: dir.path });
    try {
      const h2 = new TagHistory({ store: second, describe });
      expect(await h2.history(key)).toEqual(before);
      expect(before.alerts[0]?.reviews).toMatchObject([
        { action: 'reject', reviewer: 'erin', reason: 'not ours' },
      ]);
      // The pin survives: the restarted process still answers the approved digest, and sees the same alert.
      expect(await h2.observe(observation(route, '7.2.4', c), signal)).toMatchObject({
        digest: a,
        event: 'pinned',
        alertId: other.alertId,
      });
    } finally {
      await second.close();
    }
  });
});
