import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/open.js';
import { TagHistory } from '../../../src/tags/history.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { describeFrom, digest, image, observation, offlineRoute } from './fixtures.js';

describe('TagHistory on SQLite: pin, approve, reject, deny', () => {
  let dir: TempDir;
  let store: Store;
  let history: TagHistory;
  const signal = AbortSignal.timeout(30_000);
  const route = offlineRoute('library/nginx');
  const [a, b, c] = [digest(11), digest(12), digest(13)];

  beforeAll(async () => {
    dir = await makeTempDir('pin');
    store = await openStore({ dataDir: dir.path });
    history = new TagHistory({
      store,
      describe: describeFrom(new Map([a, b, c].map((d) => [d, image(d)]))),
      settings: {
        patterns: [{ tags: 'strict-*', action: 'deny' }],
        defaults: {
          'fully-qualified': { action: 'pin', severity: 'high' },
          floating: { action: 'alert', severity: 'low' },
        },
      },
    });
  });
  afterAll(async () => {
    await store?.close();
    await dir?.cleanup();
  });

  it('keeps serving the approved digest of a pinned fully qualified tag until the move is approved', async () => {
    await history.observe(observation(route, '1.25.3', a), signal);
    const pinned = await history.observe(observation(route, '1.25.3', b), signal);
    expect(pinned).toMatchObject({ kind: 'serve', digest: a, event: 'pinned' });
    if (pinned.alertId === undefined) throw new Error('expected an alert');
    expect(await history.observe(observation(route, '1.25.3', b), signal)).toMatchObject({
      digest: a,
      event: 'pinned',
    });

    const approved = await history.approve(
      Number(pinned.alertId),
      'alice',
      'upstream rebuild for CVE-2024-1',
    );
    expect(approved.kind).toBe('reviewed');
    expect(await history.observe(observation(route, '1.25.3', b), signal)).toMatchObject({
      kind: 'serve',
      digest: b,
      event: 'unchanged',
    });
    expect((await history.approve(Number(pinned.alertId), 'bob', 'twice')).kind).toBe('already-reviewed');
  });

  it('keeps the pin after a rejection, also for a tag whose rule only alerts', async () => {
    await history.observe(observation(route, 'latest', a), signal);
    const moved = await history.observe(observation(route, 'latest', b), signal);
    expect(moved).toMatchObject({ digest: b, event: 'moved' });
    const rejected = await history.reject(Number(moved.alertId), 'carol', 'unknown publisher');
    expect(rejected.kind).toBe('reviewed');
    expect(await history.observe(observation(route, 'latest', b), signal)).toMatchObject({
      digest: a,
      event: 'pinned',
    });
    // A further move is a new mutation: a new alert, and the pin still holds.
    const third = await history.observe(observation(route, 'latest', c), signal);
    expect(third).toMatchObject({ digest: a, event: 'pinned' });
    expect(third.alertId).not.toBe(moved.alertId);
    const h = await history.history({
      upstream: 'registry.test',
      repository: 'library/nginx',
      tag: 'latest',
    });
    expect(h.approved).toMatchObject([{ digest: a, pinned: true }]);
    expect(h.alerts.map((x) => x.status)).toEqual(['rejected', 'open']);
  });

  it('refuses a deny-rule tag until the move is reviewed', async () => {
    await history.observe(observation(route, 'strict-1', a), signal);
    const refused = await history.observe(observation(route, 'strict-1', b), signal);
    expect(refused).toMatchObject({ kind: 'refuse', event: 'moved' });
    if (refused.kind !== 'refuse') throw new Error('expected a refusal');
    expect(refused.message).toContain('tag-mutation');
    await history.approve(Number(refused.alertId), 'dave', 'expected');
    expect(await history.observe(observation(route, 'strict-1', b), signal)).toMatchObject({
      kind: 'serve',
      digest: b,
    });
  });
});
