import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// The decision index lives in the store: with PostgreSQL down a decision query is a 503 naming the store (an OCI
// error body), not a 500 nor an empty list, and answers again once the database is back.
const token = 'store-down-token';
let upstream: Registry;
let postgres: Postgres;
let pullgate: Pullgate;

beforeAll(async () => {
  upstream = await startRegistry();
  postgres = await startPostgres();
  pullgate = await startPullgate({
    env: {
      PULLGATE_UPSTREAM: upstream.url,
      PULLGATE_DATABASE_URL: await postgres.createDatabase(),
      PULLGATE_ADMIN_TOKEN: token,
    },
  });
}, 60_000);
afterAll(async () => {
  await pullgate?.stop();
  await postgres?.stop();
  await upstream?.stop();
});

const query = () =>
  fetch(`${pullgate.url}/admin/decisions`, { headers: { authorization: `Bearer ${token}` } });

describe('decision queries with the store down', () => {
  it('answer 503 naming the store, then 200 once it is back', async () => {
    expect((await query()).status).toBe(200);
    await postgres.pause();
    const down = await query();
    expect(down.status).toBe(503);
    const body = (await down.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]?.code).toBe('UNAVAILABLE');
    expect(body.errors[0]?.message).toContain(`127.0.0.1:${postgres.port}`);
    await postgres.resume();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await query()).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
  }, 60_000);
});
