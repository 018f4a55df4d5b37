import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/open.js';
import { TagHistory } from '../../../src/tags/history.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { describeFrom, digest, image, observation, offlineRoute } from './fixtures.js';

describe('TagHistory on SQLite: first-seen, unchanged, moved', () => {
  let dir: TempDir;
  let store: Store;
  beforeAll(async () => {
    dir = await makeTempDir('history');
    store = await openStore({ dataDir: dir.path });
  });
  afterAll(async () => {
    await store?.close();
    await dir?.cleanup();
  });

  it('records every resolution and opens an alert with the diff when a floating tag moves', async () => {
    const a = digest(1);
    const b = digest(2);
    const describe = describeFrom(
      new Map([
        [a, image(a)],
        [b, image(b, { user: 'root', env: { PATH: 'h-path', API_KEY: 'h-key' } })],
      ]),
    );
    const history = new TagHistory({ store, describe });
    const route = offlineRoute();
    const signal = AbortSignal.timeout(10_000);

    expect(await history.observe(observation(route, 'latest', a), signal)).toEqual({
      kind: 'serve',
      digest: a,
      event: 'first-seen',
    });
    expect(await history.observe(observation(route, 'latest', a), signal)).toMatchObject({
      event: 'unchanged',
      digest: a,
    });
    const moved = await history.observe(observation(route, 'latest', b), signal);
    // Floating tags alert by default: the new digest is served and the alert raised.
    expect(moved).toMatchObject({ kind: 'serve', digest: b, event: 'moved' });
    if (moved.kind !== 'serve' || moved.alertId === undefined) throw new Error('expected an alert id');

    const alert = await history.alert(Number(moved.alertId));
    expect(alert).toMatchObject({
      status: 'open',
      // The floating rule says low; the new digest now runs as root, which raises it to high.
      severity: 'high',
      action: 'alert',
      old: { digest: a },
      new: { digest: b },
    });
    expect(alert?.old.firstSeen).not.toBeNull();
    expect(alert?.diff).toMatchObject({
      platforms: [
        { user: { from: '1000:1000', to: 'root' }, env: { added: ['API_KEY'], removed: [], changed: [] } },
      ],
    });

    // Seeing the same mutation again does not open a second alert.
    const again = await history.observe(observation(route, 'latest', b), signal);
    expect(again).toMatchObject({ alertId: moved.alertId });

    const h = await history.history({ upstream: 'registry.test', repository: 'library/app', tag: 'latest' });
    expect(h.observations.map((o) => [o.digest, o.count])).toEqual([
      [a, 2],
      [b, 2],
    ]);
    expect(h.alerts).toHaveLength(1);
  });
});
