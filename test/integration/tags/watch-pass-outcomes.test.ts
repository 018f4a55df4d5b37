import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/open.js';
import type { TagKey } from '../../../src/store/tag-store.js';
import { TagHistory } from '../../../src/tags/history.js';
import { TagWatcher } from '../../../src/tags/watch.js';
import { UpstreamError } from '../../../src/upstream/errors.js';
import type { UpstreamRepository } from '../../../src/upstream/router.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { describeFrom, digest, image, OCI_MANIFEST, observation, offlineRoute } from './fixtures.js';

// The watcher against a real SQLite store and the real TagHistory; only the upstream answer is given, so each
// outcome of a pass (unchanged, moved, failed, unroutable) is exercised on purpose.
describe('one watch pass', () => {
  let dir: TempDir;
  let store: Store;
  const route = offlineRoute('library/api');
  const gone = offlineRoute('team/old', 'retired.example');
  const [a, b] = [digest(31), digest(32)];

  beforeAll(async () => {
    dir = await makeTempDir('watch-outcomes');
    store = await openStore({ dataDir: dir.path });
  });
  afterAll(async () => {
    await route.upstream.close();
    await gone.upstream.close();
    await store?.close();
    await dir?.cleanup();
  });

  it('counts unchanged, moved, failed and unroutable tags, opens the alert for the move and never throws', async () => {
    const history = new TagHistory({
      store,
      describe: describeFrom(new Map([a, b].map((d) => [d, image(d)]))),
    });
    const signal = AbortSignal.timeout(30_000);
    for (const tag of ['1.0.0', '2.0.0', '3.0.0']) await history.observe(observation(route, tag, a), signal);
    await history.observe(observation(gone, '9.9.9', a), signal);

    const errors: { context: string; key: TagKey | undefined }[] = [];
    const moved: TagKey[] = [];
    const watcher = new TagWatcher({
      store,
      history,
      intervalSeconds: 60,
      routeFor: (host, repository): UpstreamRepository | undefined =>
        host === route.upstream.host ? { upstream: route.upstream, repository } : undefined,
      resolve: async (r, tag) => {
        expect(r.repository).toBe('library/api');
        if (tag === '2.0.0') return { digest: b, mediaType: OCI_MANIFEST };
        if (tag === '3.0.0') throw new UpstreamError('bad-answer', 'upstream registry.test answered 500');
        return { digest: a, mediaType: OCI_MANIFEST };
      },
      onError: (_err, context, key) => errors.push({ context, key }),
      onMoved: (key) => moved.push(key),
    });

    expect(await watcher.runOnce()).toEqual({ checked: 2, moved: 1, errors: 1, skipped: 1 });
    expect(moved).toEqual([{ upstream: 'registry.test', repository: 'library/api', tag: '2.0.0' }]);
    expect(errors).toEqual([
      {
        context: 'failed to re-check a tag upstream',
        key: { upstream: 'registry.test', repository: 'library/api', tag: '3.0.0' },
      },
    ]);
    const h = await history.history({ upstream: 'registry.test', repository: 'library/api', tag: '2.0.0' });
    expect(h.alerts).toMatchObject([{ old: { digest: a }, new: { digest: b }, status: 'open' }]);
    // The default rule pins a fully qualified tag: clients keep getting the approved digest.
    expect(h.approved).toMatchObject([{ digest: a, pinned: true }]);

    // The next pass sees the same mutation: still counted as moved, no second alert.
    expect(await watcher.runOnce()).toMatchObject({ checked: 2, moved: 1 });
    const again = await history.history({
      upstream: 'registry.test',
      repository: 'library/api',
      tag: '2.0.0',
    });
    expect(again.alerts).toHaveLength(1);
  });
});
