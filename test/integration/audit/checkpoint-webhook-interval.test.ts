import { describe, expect, it } from 'vitest';
import type { LatestCheckpoint } from '../../../src/audit/index.js';
import { CheckpointPublisher } from '../../../src/notify/index.js';
import { openStore } from '../../../src/store/open.js';
import { Outbox } from '../../../src/store/outbox.js';
import { makeTempDir } from '../../helpers/tmp.js';

// The publisher against a real (SQLite) outbox, with its clock in the test's hands.
function latestOf(size: number): LatestCheckpoint {
  const hash = String(size % 10).repeat(64);
  return {
    checkpoint: { origin: 'o/x', size, hash },
    note: `o/x\n${size}\n${Buffer.from(hash, 'hex').toString('base64')}\n`,
    signed: false,
    time: '2024-01-01T00:00:00.000Z',
  };
}

async function setup(label: string) {
  const tmp = await makeTempDir(label);
  const store = await openStore({ dataDir: tmp.path });
  let nowMs = Date.parse('2024-01-01T00:00:00.000Z');
  let latest = latestOf(3);
  const publisher = new CheckpointPublisher({
    store,
    receivers: [{ url: 'http://127.0.0.1:1/hook', format: 'json' }],
    latest: () => latest,
    intervalMs: 60_000,
    now: () => new Date(nowMs),
  });
  return {
    publisher,
    advance: (ms: number) => {
      nowMs += ms;
    },
    grow: (size: number) => {
      latest = latestOf(size);
    },
    events: async () => (await new Outbox(store.db).all()).filter((r) => r.event === 'log.checkpoint'),
    [Symbol.asyncDispose]: async () => {
      await store.close();
      await tmp.cleanup();
    },
  };
}

describe('log.checkpoint webhook events', () => {
  it('are enqueued at most once a minute while the log grows', async () => {
    await using s = await setup('checkpoint-interval');
    expect(await s.publisher.tick()).toBe(true);
    s.grow(5);
    s.advance(30_000);
    expect(await s.publisher.tick()).toBe(false);
    s.advance(30_000);
    expect(await s.publisher.tick()).toBe(true);
    expect((await s.events()).map((r) => JSON.parse(r.payload ?? '{}').size)).toEqual([3, 5]);
  });

  it('are not enqueued again when the log has not grown', async () => {
    await using s = await setup('checkpoint-unchanged');
    expect(await s.publisher.tick()).toBe(true);
    s.advance(10 * 60_000);
    expect(await s.publisher.tick()).toBe(false);
    expect(await s.events()).toHaveLength(1);
  });
});
