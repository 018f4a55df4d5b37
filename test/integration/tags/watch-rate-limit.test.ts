import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/open.js';
import { TagHistory } from '../../../src/tags/history.js';
import { TagWatcher } from '../../../src/tags/watch.js';
import { UpstreamError } from '../../../src/upstream/errors.js';
import type { UpstreamRepository } from '../../../src/upstream/router.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { describeFrom, digest, image, OCI_MANIFEST, observation, offlineRoute } from './fixtures.js';

describe('a rate-limited upstream during watch passes', () => {
  let dir: TempDir;
  let store: Store;
  const limited = offlineRoute('library/hub', 'limited.example');
  const other = offlineRoute('org/app', 'other.example');
  const a = digest(71);
  const describe = describeFrom(new Map([[a, image(a)]]));

  beforeAll(async () => {
    dir = await makeTempDir('watch-rate-limit');
    store = await openStore({ dataDir: dir.path });
    const history = new TagHistory({ store, describe });
    for (const route of [limited, other]) {
      for (const tag of ['1.0.0', '1.0.1', '1.0.2']) {
        await history.observe(observation(route, tag, a), AbortSignal.timeout(10_000));
      }
    }
  });
  afterAll(async () => {
    await limited.upstream.close();
    await other.upstream.close();
    await store?.close();
    await dir?.cleanup();
  });

  it('skips that upstream for the rest of the pass and for the doubled interval or Retry-After, not the others', async () => {
    let clock = Date.parse('2025-06-01T00:00:00Z');
    let answer429 = true;
    const asked: string[] = [];
    const watcher = new TagWatcher({
      store,
      history: new TagHistory({ store, describe }),
      now: () => new Date(clock),
      random: () => 0.5,
      intervalSeconds: 60,
      maxIntervalSeconds: 600,
      concurrency: 1,
      routeFor: (host, repository): UpstreamRepository | undefined => {
        const upstream = [limited.upstream, other.upstream].find((u) => u.host === host);
        return upstream === undefined ? undefined : { upstream, repository };
      },
      resolve: async (route, tag) => {
        asked.push(`${route.upstream.host}:${tag}`);
        if (route.upstream.host === limited.upstream.host && answer429) {
          throw new UpstreamError('rate-limited', 'upstream limited.example is rate limiting pulls', {
            retryAfter: '300',
          });
        }
        return { digest: a, mediaType: OCI_MANIFEST };
      },
      onError: () => undefined,
    });

    expect(await watcher.runOnce()).toEqual({ checked: 3, moved: 0, errors: 1, skipped: 2 });
    expect(asked.filter((x) => x.startsWith('limited.example'))).toHaveLength(1);
    // Doubled interval (120 s) is shorter than Retry-After (300 s): Retry-After wins.
    expect(watcher.backoffFor('limited.example')).toEqual({ multiplier: 2, blockedUntilMs: clock + 300_000 });

    asked.length = 0;
    clock += 299_000;
    expect(await watcher.runOnce()).toEqual({ checked: 3, moved: 0, errors: 0, skipped: 3 });
    expect(asked.every((x) => x.startsWith('other.example'))).toBe(true);

    // Still limited once the wait is over: the multiplier doubles again (240 s; Retry-After is still longer).
    clock += 1_000;
    expect(await watcher.runOnce()).toMatchObject({ errors: 1, skipped: 2 });
    expect(watcher.backoffFor('limited.example')).toEqual({ multiplier: 4, blockedUntilMs: clock + 300_000 });

    // The upstream recovers: its tags are checked again and the multiplier halves with each clean pass.
    answer429 = false;
    clock += 300_000;
    expect(await watcher.runOnce()).toEqual({ checked: 6, moved: 0, errors: 0, skipped: 0 });
    expect(watcher.backoffFor('limited.example').multiplier).toBe(2);
  });
});
