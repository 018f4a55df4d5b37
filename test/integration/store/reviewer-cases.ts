import { expect } from 'vitest';
import type { Store } from '../../../src/store/open.js';
import { SessionStore } from '../../../src/store/session-store.js';
import { TagStore } from '../../../src/store/tag-store.js';
import { TokenStore } from '../../../src/store/token-store.js';

const t0 = new Date('2026-02-01T12:00:00.000Z');
const later = (ms: number) => new Date(t0.getTime() + ms);

/** Tokens, sessions and the console's queue queries, run against SQLite and PostgreSQL by their own test files. */
export async function exerciseReviewerTables(store: Store): Promise<void> {
  const tokens = new TokenStore(store.db);
  const { token, view } = await tokens.create({
    name: 'ci-bot',
    role: 'reviewer',
    createdBy: 'break-glass',
    at: t0,
    expiresAt: later(60_000),
  });
  expect(await tokens.verify(token, later(1000))).toMatchObject({
    id: view.id,
    name: 'ci-bot',
    role: 'reviewer',
  });
  expect(await tokens.verify(token, later(60_000))).toBeUndefined();
  expect(await tokens.verify(`${token}x`, later(1000))).toBeUndefined();
  expect(await tokens.revoke(view.id, later(2000))).toBe(true);
  expect(await tokens.revoke(view.id, later(3000))).toBe(false);
  expect(await tokens.verify(token, later(1000))).toBeUndefined();

  const sessions = new SessionStore(store.db, { idleMs: 10_000, absoluteMs: 30_000 });
  const id = await sessions.create('alice', t0);
  expect(await sessions.touch(id, later(9_000))).toBe('alice');
  expect(await sessions.touch(id, later(18_000))).toBe('alice');
  // Busy, but past the absolute limit.
  expect(await sessions.touch(id, later(31_000))).toBeUndefined();
  const idle = await sessions.create('bob', t0);
  expect(await sessions.touch(idle, later(10_001))).toBeUndefined();
  const out = await sessions.create('carol', t0);
  await sessions.destroy(out);
  expect(await sessions.touch(out, later(1))).toBeUndefined();

  const tags = new TagStore(store.db);
  const counts = await tags.countByStatus({});
  expect(Object.values(counts).every((n) => typeof n === 'number')).toBe(true);
  const queue = await tags.queue({ limit: 10, offset: 0 });
  const firstClosed = queue.findIndex((a) => a.status !== 'open');
  if (firstClosed >= 0) expect(queue.slice(firstClosed).every((a) => a.status !== 'open')).toBe(true);
  expect(queue.length).toBe(counts.open + counts.approved + counts.rejected);
}
