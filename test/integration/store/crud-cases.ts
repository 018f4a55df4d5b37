import { expect } from 'vitest';
import type { Store } from '../../../src/store/open.js';
import { enqueuePayloadEvent, Outbox } from '../../../src/store/outbox.js';
import { TagStore } from '../../../src/store/tag-store.js';

const key = { upstream: 'docker.io', repository: 'library/nginx', tag: '1.25.3' };
const d1 = `sha256:${'1'.repeat(64)}`;
const d2 = `sha256:${'2'.repeat(64)}`;

/** The same create/read/update cases, run against SQLite and PostgreSQL by their own test files. */
export async function exerciseStore(store: Store): Promise<void> {
  const tags = new TagStore(store.db);

  const first = await tags.recordObservation({
    ...key,
    digest: d1,
    mediaType: 'm',
    kind: 'manifest',
    at: '2024-01-01T00:00:00.000Z',
  });
  expect(first.count).toBe(1);
  const again = await tags.recordObservation({
    ...key,
    digest: d1,
    mediaType: 'm',
    kind: 'manifest',
    at: '2024-01-02T00:00:00.000Z',
  });
  expect(again).toMatchObject({
    count: 2,
    first_seen: '2024-01-01T00:00:00.000Z',
    last_seen: '2024-01-02T00:00:00.000Z',
  });
  // An out-of-order (older) sighting does not move last_seen back.
  const late = await tags.recordObservation({
    ...key,
    digest: d1,
    mediaType: 'm',
    kind: 'manifest',
    at: '2023-12-31T00:00:00.000Z',
  });
  expect(late).toMatchObject({ count: 3, last_seen: '2024-01-02T00:00:00.000Z' });

  const state = await tags.initState(key, 'manifest', d1, 'm', '2024-01-01T00:00:00.000Z');
  expect(state).toMatchObject({ approved_digest: d1, generation: 0, pinned: 0 });
  // Trust on first use: a second initialiser does not replace the approved digest.
  expect((await tags.initState(key, 'manifest', d2, 'm', '2024-01-03T00:00:00.000Z')).approved_digest).toBe(
    d1,
  );

  await tags.recordChildren(d1, [{ digest: d2, mediaType: 'm', platform: 'linux/amd64' }]);
  await tags.recordChildren(d1, [{ digest: d2, mediaType: 'm', platform: 'linux/amd64' }]);
  expect(await tags.children(d1)).toHaveLength(1);

  const alert = {
    ...key,
    kind: 'manifest' as const,
    generation: 0,
    old_digest: d1,
    new_digest: d2,
    old_media_type: 'm',
    new_media_type: 'm',
    old_first_seen: null,
    old_last_seen: null,
    new_first_seen: null,
    new_last_seen: null,
    diff: '{}',
    decision: null,
    action: 'pin',
    severity: 'high' as const,
    status: 'open' as const,
    created_at: '2024-01-03T00:00:00.000Z',
    updated_at: '2024-01-03T00:00:00.000Z',
  };
  const receivers = [{ url: 'http://127.0.0.1:1/hook', format: 'json' as const }];
  const opened = await tags.openAlert(alert, receivers);
  expect(opened.created).toBe(true);
  const duplicate = await tags.openAlert(alert, receivers);
  expect(duplicate).toMatchObject({ created: false, alert: { id: opened.alert.id } });
  expect(await new Outbox(store.db).all()).toHaveLength(1);

  expect(await tags.listAlerts({ status: 'open', limit: 10 })).toHaveLength(1);
  const reviewed = await tags.review(
    opened.alert.id,
    'approve',
    'alice',
    'release notes checked',
    '2024-01-04T00:00:00.000Z',
  );
  expect(reviewed.kind).toBe('reviewed');
  expect((await tags.review(opened.alert.id, 'reject', 'bob', 'late', '2024-01-05T00:00:00.000Z')).kind).toBe(
    'already-reviewed',
  );
  expect((await tags.review(9999, 'reject', 'bob', 'x', '2024-01-05T00:00:00.000Z')).kind).toBe('not-found');
  const [after] = await tags.states(key);
  expect(after).toMatchObject({ approved_digest: d2, generation: 1, pinned: 0 });
  expect(await tags.reviews(opened.alert.id)).toMatchObject([{ reviewer: 'alice', action: 'approve' }]);

  const secret = await store.secret('env-hmac');
  expect(secret).toHaveLength(32);
  expect((await store.secret('env-hmac')).equals(secret)).toBe(true);
  expect(await store.ping()).toBe(true);
}

/** An event with its own body (`log.checkpoint`, no alert) is stored, claimed and marked like an alert event. */
export async function exercisePayloadEvents(store: Store): Promise<void> {
  const outbox = new Outbox(store.db);
  const before = (await outbox.all()).length;
  const receivers = [{ url: 'http://127.0.0.1:1/hook', format: 'json' as const }];
  const payload = { origin: 'o/x', size: 3 };
  await enqueuePayloadEvent(store.db, receivers, 'log.checkpoint', payload, '2024-02-01T00:00:00.000Z');
  await enqueuePayloadEvent(store.db, receivers, 'log.checkpoint', payload, '2024-02-01T00:01:00.000Z');
  const rows = (await outbox.all()).slice(before);
  expect(rows).toMatchObject([
    { event: 'log.checkpoint', alert_id: null, payload: JSON.stringify(payload) },
    { event: 'log.checkpoint', alert_id: null },
  ]);
  const claimed = await outbox.claimDue(new Date('2024-02-01T00:02:00.000Z'), 30_000, 100);
  const mine = claimed.find((r) => r.id === rows[0]?.id);
  if (mine === undefined) throw new Error('the payload event should be due');
  expect(await outbox.markDelivered(mine, new Date('2024-02-01T00:02:01.000Z'))).toBe(true);
}
