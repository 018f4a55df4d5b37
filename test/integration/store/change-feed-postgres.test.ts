import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChangeFeed, openChangeFeed, type TagChange } from '../../../src/store/change-feed.js';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { waitUntil } from '../../helpers/proc.js';

// Two replicas' change feeds on one real PostgreSQL: a review announced through one reaches the other (LISTEN/NOTIFY),
// also after the database restarted under them.
let postgres: Postgres;
let url: string;
const feeds: ChangeFeed[] = [];
const received: TagChange[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
  url = await postgres.createDatabase();
  feeds.push(await openChangeFeed({ databaseUrl: url, onChange: () => undefined }));
  feeds.push(await openChangeFeed({ databaseUrl: url, onChange: (c) => received.push(c), reconnectMs: 200 }));
}, 60_000);

afterAll(async () => {
  for (const f of feeds) await f.close();
  await postgres?.stop();
});

describe('the tag change feed on PostgreSQL', () => {
  const change = (tag: string): TagChange => ({ upstream: 'docker.io', repository: 'library/app', tag });

  it('delivers a change published by one replica to another', async () => {
    await feeds[0]?.publish(change('1.2.3'));
    await waitUntil(() => received.some((c) => c.tag === '1.2.3'), { what: 'the change on the other feed' });
    expect(received.filter((c) => c.tag === '1.2.3')).toEqual([change('1.2.3')]);
  });

  it('listens again by itself after PostgreSQL restarted', async () => {
    await postgres.pause();
    await postgres.resume();
    await waitUntil(
      async () => {
        await feeds[0]?.publish(change('after-restart'));
        return received.some((c) => c.tag === 'after-restart');
      },
      { what: 'a change after the restart', timeoutMs: 20_000, intervalMs: 300 },
    );
    expect(received.some((c) => c.tag === 'after-restart')).toBe(true);
  });
});
