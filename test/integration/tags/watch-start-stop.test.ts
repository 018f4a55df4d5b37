import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/open.js';
import { TagHistory } from '../../../src/tags/history.js';
import { TagWatcher, type WatchPassResult } from '../../../src/tags/watch.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { describeFrom, digest, image, OCI_MANIFEST, observation, offlineRoute } from './fixtures.js';

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('the watch loop', () => {
  let dir: TempDir;
  let store: Store;
  const route = offlineRoute('library/loop');
  const a = digest(91);
  const describe = describeFrom(new Map([[a, image(a)]]));

  beforeAll(async () => {
    dir = await makeTempDir('watch-loop');
    store = await openStore({ dataDir: dir.path });
    await new TagHistory({ store, describe }).observe(
      observation(route, '4.2.0', a),
      AbortSignal.timeout(10_000),
    );
  });
  afterAll(async () => {
    await route.upstream.close();
    await store?.close();
    await dir?.cleanup();
  });

  it('runs passes on an unref’d timer, and stop() waits for the check in flight and schedules no more', async () => {
    const passes: WatchPassResult[] = [];
    let release: () => void = () => undefined;
    let holdNext = false;
    let entered: () => void = () => undefined;
    const inResolve = new Promise<void>((r) => {
      entered = r;
    });
    const before = timers();
    const watcher = new TagWatcher({
      store,
      history: new TagHistory({ store, describe }),
      intervalSeconds: 0.02,
      random: () => 0,
      routeFor: (_host, repository) => ({ upstream: route.upstream, repository }),
      // Ignores its signal on purpose: stop() must still wait for it.
      resolve: async () => {
        if (holdNext) {
          entered();
          await new Promise<void>((r) => {
            release = r;
          });
        }
        return { digest: a, mediaType: OCI_MANIFEST };
      },
      onPass: (result) => passes.push(result),
    });
    watcher.start();
    // The pending timer does not keep the process alive.
    expect(timers()).toBe(before);
    await expect.poll(() => passes.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    expect(passes[0]).toEqual({ checked: 1, moved: 0, errors: 0, skipped: 0 });

    holdNext = true;
    await inResolve;
    let stopped = false;
    const stopping = watcher.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(stopped).toBe(false);
    release();
    await stopping;
    const count = passes.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(passes.length).toBe(count);
  });
});
